"""Janus's SIP plugin in the project's generated Janus folder (R24).

`janus_config` writes a folder where every plugin but VideoRoom (and TextRoom) is disabled;
hardware terminals need the SIP plugin too. `enable_sip` adds its config and takes it off
the disabled list. The SIP stack binds the node's real address (never loopback only: a
terminal elsewhere must reach it) and relays RTP on its own port range, which the firewall
opens besides Janus's WebRTC range.

This module is the mixer's one touch point with `media.janus_config` (config writing only).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from diemcau.mcu import janus_config

SIP_PLUGIN = "libjanus_sip.so"
SIP_FILE = "janus.plugin.sip.jcfg"


@dataclass(frozen=True)
class SipSettings:
    address: str  # the node's address terminals reach (local_ip and sdp_ip)
    rtp_port_range: tuple[int, int] = (20400, 20599)
    user_agent: str = "diemcau MCU"

    def __post_init__(self) -> None:
        address = ipaddress.ip_address(self.address)
        if address.is_loopback or address.is_unspecified:
            raise ValueError("the SIP plugin must bind the node's real address, not "
                             f"{self.address}: terminals elsewhere could not reach it")
        low, high = self.rtp_port_range
        if not 1024 <= low < high <= 65535:
            raise ValueError(f"bad SIP RTP port range {self.rtp_port_range}")


def sip_file(settings: SipSettings) -> str:
    low, high = settings.rtp_port_range
    return janus_config.render({
        "general": {
            "local_ip": settings.address,
            "local_media_ip": settings.address,
            "sdp_ip": settings.address,
            # No OPTIONS keepalives and no STUN lookup: the node has a real address.
            "keepalive_interval": 0,
            "behind_nat": False,
            "user_agent": settings.user_agent,
            "register_ttl": 3600,
            "rtp_port_range": f"{low}-{high}",
            "events": False,
        }
    })


def main_file_with_sip(config: janus_config.JanusConfig) -> str:
    """janus.jcfg as `janus_config` writes it, with the SIP plugin no longer disabled."""
    text = janus_config.janus_files(config)[janus_config.MAIN_FILE]
    plugins = (janus_config.WANTED_PLUGINS if config.with_textroom
               else ("libjanus_videoroom.so",))
    folder = config.lib_dir / "plugins"
    before = janus_config._disabled(folder, janus_config.KNOWN_PLUGINS, plugins)
    after = janus_config._disabled(folder, janus_config.KNOWN_PLUGINS, (*plugins, SIP_PLUGIN))
    line = f"\tdisable = {janus_config._value(before)}"
    if line not in text:
        raise RuntimeError("janus.jcfg has no plugins.disable line to change")
    return text.replace(line, f"\tdisable = {janus_config._value(after)}")


def enable_sip(config: janus_config.JanusConfig, settings: SipSettings) -> list[Path]:
    """Write the SIP plugin's config into the folder `write_config` made, and enable it."""
    written = []
    for name, text in ((janus_config.MAIN_FILE, main_file_with_sip(config)),
                       (SIP_FILE, sip_file(settings))):
        path = config.directory / name
        janus_config._write_private(path, text)
        written.append(path)
    return written
