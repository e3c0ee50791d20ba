"""The project's own Janus configuration folder: a minimal, safe setup (R22).

Debian's /etc/janus listens on every address with demo rooms; we never use it. The folder we
write holds janus.jcfg and the config of the few plugins and transports we load:

- the Janus API, admin API and WebSockets listen on 127.0.0.1 only (a reverse proxy with TLS
  publishes the WebSockets to browsers);
- the Janus API needs `api_secret` (the backend) or a stored token (`token_auth`: browsers get
  one per join from the backend through the admin API), the admin API needs `admin_secret`,
  and only the backend may create VideoRoom rooms (`admin_key`);
- no public STUN server, ICE limited to one chosen interface, a fixed RTP port range;
- every plugin but VideoRoom (and TextRoom, for chat) and every transport but HTTP and
  WebSockets is disabled; no demo rooms.

Secrets are generated once and kept in `<dir>/secrets.json` (0600); the folder is 0700.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

LOOPBACK = "127.0.0.1"
SECRETS_FILE = "secrets.json"
NODE_FILE = "node.json"  # where this folder's Janus listens (no secrets)
MAIN_FILE = "janus.jcfg"

WANTED_PLUGINS = ("libjanus_videoroom.so", "libjanus_textroom.so")
WANTED_TRANSPORTS = ("libjanus_http.so", "libjanus_websockets.so")
# What Debian's janus 1.1.2 ships; the folders are scanned too, so newer ones are disabled.
KNOWN_PLUGINS = (
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_voicemail.so",
)
KNOWN_TRANSPORTS = (
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
    "libjanus_websockets.so",
)
KNOWN_LOGGERS = ("libjanus_jsonlog.so",)
# Janus refuses to write recordings into these (`rec_dir` checks).
PROTECTED_FOLDERS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin",
                     "/sys", "/usr"]


@dataclass(frozen=True)
class JanusSecrets:
    api_secret: str
    admin_secret: str
    room_admin_secret: str  # the VideoRoom/TextRoom `admin_key`


@dataclass(frozen=True)
class JanusConfig:
    directory: Path
    secrets: JanusSecrets
    interface: str = ""
    rtp_port_range: tuple[int, int] = (20000, 20200)
    http_port: int = 8088
    admin_port: int = 7088
    ws_port: int = 8188
    lib_dir: Path = Path("/usr/lib/x86_64-linux-gnu/janus")
    recordings_dir: Path | None = None
    server_name: str = "diemcau"
    debug_level: int = 4
    with_textroom: bool = True
    # Janus's `event_loops`: 0 keeps its default (a thread of its own per handle); n > 0 has
    # every handle's media served by a fixed pool of n threads.
    event_loops: int = 0
    extra_protected: tuple[str, ...] = field(default_factory=tuple)

    @property
    def janus_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://{LOOPBACK}:{self.admin_port}/admin"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.ws_port}/"

    @property
    def main_file(self) -> Path:
        return self.directory / MAIN_FILE


def parse_port_range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError as exc:
        raise ValueError(f"port range must look like 20000-20200, not {text!r}") from exc
    if not 1024 <= low < high <= 65535:
        raise ValueError(f"port range {text!r} must be two ports 1024–65535, low < high")
    return low, high


def default_route_interface(route_table: Path = Path("/proc/net/route")) -> str:
    """The interface of the IPv4 default route, or "" when there is none. ICE never uses
    loopback, so media needs a real interface."""
    try:
        lines = route_table.read_text().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        parts = line.split()
        if len(parts) > 2 and parts[1] == "00000000":
            return parts[0]
    return ""


def interface_address(interface: str) -> str:
    """The IPv4 address of a network interface, or "" when it has none (or is unknown)."""
    import fcntl
    import socket
    import struct

    if not interface:
        return ""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), 0x8915,  # SIOCGIFADDR
                                 struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return ""
    return socket.inet_ntoa(packed[20:24])


def sip_host(config: JanusConfig) -> str:
    """Where hardware terminals reach this node (R24): `DIEMCAU_SIP_ADDRESS`, else the ICE
    interface's address; "" when SIP is switched off (`DIEMCAU_SIP=0`) or none is known."""
    if not settings.SIP_ENABLED:
        return ""
    return settings.SIP_ADDRESS or interface_address(config.interface)


# Other apps add files to the folder (the SIP plugin's, by the live plane: `media.apps`):
# each extension writes what it needs into the folder `write_config` made and returns the
# paths; `diemcau janus config|run` calls them after writing the folder.
Extension = Callable[[JanusConfig], list[Path]]
_extensions: list[Extension] = []


def extend(extension: Extension) -> None:
    if extension not in _extensions:
        _extensions.append(extension)


def write_extensions(config: JanusConfig) -> list[Path]:
    written: list[Path] = []
    for extension in list(_extensions):
        written += extension(config)
    return written


def load_or_create_secrets(directory: Path) -> JanusSecrets:
    """Read `<directory>/secrets.json`, writing new random secrets the first time."""
    path = directory / SECRETS_FILE
    if path.exists():
        data = json.loads(path.read_text())
        return JanusSecrets(**{k: data[k] for k in JanusSecrets.__dataclass_fields__})
    made = JanusSecrets(
        api_secret=secrets.token_urlsafe(32),
        admin_secret=secrets.token_urlsafe(32),
        room_admin_secret=secrets.token_urlsafe(32),
    )
    _ensure_private_dir(directory)
    _write_private(path, json.dumps(asdict(made), indent=2) + "\n")
    return made


def config_from_settings(
    directory: Path | None = None,
    *,
    interface: str | None = None,
    rtp_port_range: str | None = None,
    http_port: int | None = None,
    admin_port: int | None = None,
    ws_port: int | None = None,
    server_name: str | None = None,
    event_loops: int | None = None,
) -> JanusConfig:
    """The config for this machine: settings, overridden by the command's options."""
    folder = Path(directory or settings.JANUS_DIR).resolve()
    return JanusConfig(
        directory=folder,
        secrets=load_or_create_secrets(folder),
        interface=interface if interface is not None else (
            settings.JANUS_INTERFACE or default_route_interface()
        ),
        rtp_port_range=parse_port_range(rtp_port_range or settings.JANUS_RTP_PORT_RANGE),
        http_port=http_port or settings.JANUS_HTTP_PORT,
        admin_port=admin_port or settings.JANUS_ADMIN_PORT,
        ws_port=ws_port or settings.JANUS_WS_PORT,
        lib_dir=Path(settings.JANUS_LIB_DIR),
        recordings_dir=Path(settings.JANUS_RECORDINGS_DIR),
        server_name=server_name or settings.JANUS_NODE_NAME,
        event_loops=settings.JANUS_EVENT_LOOPS if event_loops is None else event_loops,
    )


# ------------------------------------------------------------------------------ rendering


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    text = str(value)
    if any(ch in text for ch in "\n\r\0"):
        raise ValueError("jcfg strings cannot hold line breaks")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """libconfig syntax as Janus reads it: `name: { key = value }` per section."""
    out = ["# Generated by `diemcau janus config`. Do not edit: run the command again.", ""]
    for name, items in sections.items():
        out.append(f"{name}: {{")
        out += [f"\t{key} = {_value(value)}" for key, value in items.items()]
        out += ["}", ""]
    return "\n".join(out)


def _disabled(folder: Path, known: Iterable[str], wanted: Iterable[str]) -> str:
    present = {p.name for p in folder.glob("*.so")} if folder.is_dir() else set()
    return ",".join(sorted((present | set(known)) - set(wanted)))


def janus_files(config: JanusConfig) -> dict[str, str]:
    """File name → text of every file in the folder (secrets.json aside)."""
    lib = config.lib_dir
    low, high = config.rtp_port_range
    plugins = WANTED_PLUGINS if config.with_textroom else ("libjanus_videoroom.so",)
    nat: dict[str, Any] = {
        "nice_debug": False,
        "full_trickle": False,
        "ice_lite": False,
        "ice_tcp": False,
        # No stun_server / turn_server: nothing is sent to a public server.
    }
    if config.interface:
        nat["ice_enforce_list"] = config.interface
    protected = [*PROTECTED_FOLDERS, *config.extra_protected]
    main: dict[str, dict[str, Any]] = {
        "general": {
            "configs_folder": str(config.directory),
            "plugins_folder": str(lib / "plugins"),
            "transports_folder": str(lib / "transports"),
            "events_folder": str(lib / "events"),
            "loggers_folder": str(lib / "loggers"),
            "log_to_stdout": True,
            "debug_level": config.debug_level,
            "debug_timestamps": True,
            "debug_colors": False,
            "server_name": config.server_name,
            "session_timeout": 60,
            "api_secret": config.secrets.api_secret,
            # stored tokens, added per participant through the admin API (`add_token`)
            "token_auth": True,
            "admin_secret": config.secrets.admin_secret,
            "hide_dependencies": True,
            "protected_folders": protected,
            **({"event_loops": config.event_loops} if config.event_loops > 0 else {}),
        },
        "certificates": {},
        "media": {"rtp_port_range": f"{low}-{high}"},
        "nat": nat,
        "plugins": {"disable": _disabled(lib / "plugins", KNOWN_PLUGINS, plugins)},
        "transports": {
            "disable": _disabled(lib / "transports", KNOWN_TRANSPORTS, WANTED_TRANSPORTS)
        },
        "loggers": {"disable": _disabled(lib / "loggers", KNOWN_LOGGERS, ())},
        "events": {"broadcast": False},
    }
    files = {
        MAIN_FILE: render(main),
        "janus.plugin.videoroom.jcfg": render(
            {
                "general": {
                    "admin_key": config.secrets.room_admin_secret,
                    "lock_rtp_forward": True,
                    "events": False,
                }
            }
        ),
        "janus.transport.http.jcfg": render(
            {
                "general": {
                    "json": "compact",
                    "base_path": "/janus",
                    "http": True,
                    "port": config.http_port,
                    "ip": LOOPBACK,
                    "https": False,
                },
                "admin": {
                    "admin_base_path": "/admin",
                    "admin_http": True,
                    "admin_port": config.admin_port,
                    "admin_ip": LOOPBACK,
                    "admin_https": False,
                },
                "cors": {},
            }
        ),
        "janus.transport.websockets.jcfg": render(
            {
                "general": {
                    "json": "compact",
                    "ws": True,
                    "ws_port": config.ws_port,
                    "ws_ip": LOOPBACK,
                    "wss": False,
                },
                "admin": {"admin_ws": False, "admin_wss": False},
            }
        ),
    }
    if config.with_textroom:
        files["janus.plugin.textroom.jcfg"] = render(
            {
                "general": {
                    "admin_key": config.secrets.room_admin_secret,
                    "json": "compact",
                    "events": False,
                }
            }
        )
    return files


def write_config(config: JanusConfig) -> list[Path]:
    """Write the folder (0700, files 0600: they hold secrets); return the files written."""
    _ensure_private_dir(config.directory)
    written = []
    for name, text in janus_files(config).items():
        path = config.directory / name
        _write_private(path, text)
        written.append(path)
    urls = {"janus_url": config.janus_url, "admin_url": config.admin_url,
            "ws_url": config.ws_url, "server_name": config.server_name}
    _write_private(config.directory / NODE_FILE, json.dumps(urls, indent=2) + "\n")
    if config.recordings_dir is not None:
        config.recordings_dir.mkdir(parents=True, exist_ok=True)
    return written


def read_node_file(directory: Path) -> dict[str, str]:
    """What `write_config` recorded about the folder: URLs and server name."""
    return dict(json.loads((directory / NODE_FILE).read_text()))


def janus_command(config: JanusConfig, binary: str | None = None) -> list[str]:
    """The command line that runs Janus in the foreground on this folder."""
    return [binary or settings.JANUS_BINARY, "-C", str(config.main_file), "-F",
            str(config.directory)]


def _ensure_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start, so no other user can read it even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
