"""The node's SIP side as `make run` sets it up (R24): `diemcau janus config` enables Janus's
SIP plugin on the node's real address (never loopback), `diemcau mixer addresses` prints what
a terminal dials for each open meeting, and the mixer agent refuses to start for a node that
terminals cannot reach."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from diemcau.mcu import janus_config
from diemcau.testing.factories import McuNodeFactory

from .live_fixtures import live_meeting


def test_janus_config_enables_the_sip_plugin_on_the_nodes_address(tmp_path, settings):
    settings.SIP_ENABLED, settings.SIP_ADDRESS = True, "10.0.0.5"
    settings.SIP_RTP_PORT_RANGE = "30400-30499"
    call_command("janus", "config", "--dir", str(tmp_path), stdout=StringIO())
    sip = (tmp_path / "janus.plugin.sip.jcfg").read_text()
    assert 'local_ip = "10.0.0.5"' in sip and 'rtp_port_range = "30400-30499"' in sip
    main = (tmp_path / "janus.jcfg").read_text()
    disabled = next(line for line in main.splitlines() if "disable" in line and "sip" in line)
    assert "libjanus_sip.so" not in disabled.replace("libjanus_nosip.so", "")


def test_without_sip_the_plugin_stays_off(tmp_path, settings):
    settings.SIP_ENABLED = False
    call_command("janus", "config", "--dir", str(tmp_path), stdout=StringIO())
    assert not (tmp_path / "janus.plugin.sip.jcfg").exists()
    assert "libjanus_sip.so" in (tmp_path / "janus.jcfg").read_text()


def test_the_sip_address_defaults_to_the_ice_interfaces(settings):
    settings.SIP_ENABLED, settings.SIP_ADDRESS = True, ""
    assert janus_config.interface_address("lo") == "127.0.0.1"
    assert janus_config.interface_address("no-such-if") == ""
    config = janus_config.JanusConfig(directory=Path("/tmp"),
                                      secrets=janus_config.JanusSecrets("a", "b", "c"),
                                      interface="no-such-if")
    assert janus_config.sip_host(config) == ""
    settings.SIP_ADDRESS = "10.1.1.1"
    assert janus_config.sip_host(config) == "10.1.1.1"


@pytest.mark.django_db
def test_what_terminals_dial_and_a_node_they_cannot_reach(kh_tree):
    node = McuNodeFactory(name="mcu-sip", sip_address="10.0.0.5:5070")
    live_meeting(node, kh_tree.district, [kh_tree.commune], code="5551234567")
    out = StringIO()
    call_command("mixer", "addresses", "--node", "mcu-sip", stdout=out)
    assert out.getvalue().startswith("sip:5551234567@10.0.0.5:5070  ")
    McuNodeFactory(name="mcu-browsers")
    with pytest.raises(CommandError, match="no SIP address"):
        call_command("mixer", "run", "--node", "mcu-browsers")
    with pytest.raises(CommandError, match="no MCU node"):
        call_command("mixer", "check", "--node", "mcu-none")
