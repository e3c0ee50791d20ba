"""The generated Janus config folder: what it says, how it is stored, and that Janus 1.1.2
really runs with it as intended (the only real proof that the keys are right)."""

from __future__ import annotations

import json
import socket
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from diemcau.mcu import janus_config
from diemcau.mcu.janus_client import JanusAccess, JanusClient, JanusError
from diemcau.mcu.testing.janus import JanusProcess


def make_config(tmp_path: Path, **extra: object) -> janus_config.JanusConfig:
    options: dict[str, object] = dict(
        directory=tmp_path,
        secrets=janus_config.load_or_create_secrets(tmp_path),
        interface="eth0",
        rtp_port_range=(20000, 20200),
    )
    options.update(extra)
    return janus_config.JanusConfig(**options)  # type: ignore[arg-type]


def test_render_quotes_strings_and_refuses_line_breaks():
    text = janus_config.render({"general": {"a": 'x"y\\z', "b": True, "c": 5, "d": ["p", "q"]}})
    assert '\ta = "x\\"y\\\\z"' in text
    assert "\tb = true" in text and "\tc = 5" in text and '\td = ["p", "q"]' in text
    with pytest.raises(ValueError):
        janus_config.render({"general": {"a": "x\ny"}})


def test_event_loops_only_when_asked(tmp_path):
    assert "event_loops =" not in janus_config.janus_files(make_config(tmp_path))["janus.jcfg"]
    main = janus_config.janus_files(make_config(tmp_path, event_loops=2))["janus.jcfg"]
    general = main.split("general: {")[1].split("}")[0]
    assert "\tevent_loops = 2" in general


def test_event_loops_from_the_settings(tmp_path, settings):
    settings.JANUS_EVENT_LOOPS = 3
    assert janus_config.config_from_settings(tmp_path).event_loops == 3
    assert janus_config.config_from_settings(tmp_path, event_loops=0).event_loops == 0


def test_files_say_what_the_design_asks(tmp_path):
    config = make_config(tmp_path)
    files = janus_config.janus_files(config)
    assert set(files) == {
        "janus.jcfg",
        "janus.plugin.videoroom.jcfg",
        "janus.plugin.textroom.jcfg",
        "janus.transport.http.jcfg",
        "janus.transport.websockets.jcfg",
    }
    main = files["janus.jcfg"]
    assert f'configs_folder = "{tmp_path}"' in main
    assert f'api_secret = "{config.secrets.api_secret}"' in main
    assert f'admin_secret = "{config.secrets.admin_secret}"' in main
    assert "token_auth = true" in main
    assert 'rtp_port_range = "20000-20200"' in main
    assert 'ice_enforce_list = "eth0"' in main
    assert "stun_server" not in main and "turn_server" not in main
    assert "ice_lite = false" in main
    disabled_plugins = main.split("plugins: {")[1].split("}")[0]
    assert "libjanus_streaming.so" in disabled_plugins
    assert "libjanus_videoroom.so" not in disabled_plugins
    assert "libjanus_textroom.so" not in disabled_plugins
    disabled_transports = main.split("transports: {")[1].split("}")[0]
    assert "libjanus_pfunix.so" in disabled_transports
    assert "libjanus_http.so" not in disabled_transports
    room = files["janus.plugin.videoroom.jcfg"]
    assert f'admin_key = "{config.secrets.room_admin_secret}"' in room
    assert "lock_rtp_forward = true" in room and "room-" not in room
    http = files["janus.transport.http.jcfg"]
    assert 'ip = "127.0.0.1"' in http and 'admin_ip = "127.0.0.1"' in http
    assert "admin_http = true" in http and "https = false" in http
    ws = files["janus.transport.websockets.jcfg"]
    assert 'ws_ip = "127.0.0.1"' in ws and "wss = false" in ws and "admin_ws = false" in ws


def test_no_interface_means_no_enforce_list(tmp_path):
    main = janus_config.janus_files(make_config(tmp_path, interface=""))["janus.jcfg"]
    assert "ice_enforce_list" not in main


def test_secrets_are_made_once_and_private(tmp_path):
    folder = tmp_path / "janus"
    first = janus_config.load_or_create_secrets(folder)
    again = janus_config.load_or_create_secrets(folder)
    assert first == again
    assert len({first.api_secret, first.admin_secret, first.room_admin_secret}) == 3
    secrets_file = folder / janus_config.SECRETS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    written = janus_config.write_config(make_config(folder))
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in written)


@pytest.mark.parametrize("text", ["20000", "a-b", "20200-20000", "80-90", "20000-70000"])
def test_bad_port_ranges_are_refused(text):
    with pytest.raises(ValueError):
        janus_config.parse_port_range(text)


def test_default_route_interface(tmp_path):
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway\tFlags\n"
        "ens3\t0002A8C0\t00000000\t0001\n"
        "ens4\t00000000\t0102A8C0\t0003\n"
    )
    assert janus_config.default_route_interface(table) == "ens4"
    assert janus_config.default_route_interface(tmp_path / "missing") == ""


def test_config_command_writes_the_folder(tmp_path, settings):
    settings.JANUS_RECORDINGS_DIR = tmp_path / "recordings"
    out = StringIO()
    call_command(
        "janus", "config", "--dir", str(tmp_path / "conf"), "--interface", "eth9",
        "--rtp-range", "30000-30100", "--http-port", "18000", "--node", "mcu-9", stdout=out,
    )
    main = (tmp_path / "conf" / "janus.jcfg").read_text()
    assert 'ice_enforce_list = "eth9"' in main and 'rtp_port_range = "30000-30100"' in main
    assert 'server_name = "mcu-9"' in main
    assert "http://127.0.0.1:18000/janus" in out.getvalue()
    secrets = json.loads((tmp_path / "conf" / "secrets.json").read_text())
    assert secrets["api_secret"] not in out.getvalue()
    node = janus_config.read_node_file(tmp_path / "conf")
    assert node["janus_url"] == "http://127.0.0.1:18000/janus"


# ------------------------------------------------------------------- against a real Janus


@pytest.mark.janus
def test_janus_runs_with_the_generated_config(janus_server: JanusProcess):
    info = janus_server.client().info()
    assert info["version_string"] == "1.1.2"
    assert info["api_secret"] is True and info["auth_token"] is True
    assert set(info["plugins"]) == {"janus.plugin.videoroom", "janus.plugin.textroom"}
    assert set(info["transports"]) == {"janus.transport.http", "janus.transport.websockets"}
    assert info["server-name"] == "diemcau-test"
    status = janus_server.admin().get_status()
    assert status["token_auth"] is True
    log = janus_server.log_path.read_text()
    low, high = janus_server.config.rtp_port_range
    assert f"RTP port range: {low} -- {high}" in log
    if janus_server.config.interface:
        assert f"Adding '{janus_server.config.interface}' to the ICE enforce list" in log
    loops = janus_server.config.event_loops
    assert loops > 0  # the settings' default: one per core
    assert f"Spawned {loops} static event loops" in log


@pytest.mark.janus
def test_janus_api_needs_the_api_secret(janus_server: JanusProcess):
    anonymous = JanusClient(JanusAccess(janus_server.config.janus_url, ""))
    with pytest.raises(JanusError) as refused:
        anonymous.create_session()
    assert refused.value.code == 403


@pytest.mark.janus
def test_janus_listens_on_loopback_only(janus_server: JanusProcess):
    other = _non_loopback_address()
    if other is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    config = janus_server.config
    for port in (config.http_port, config.admin_port, config.ws_port):
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
            pass


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address
