"""Fixtures of the mixer's tests.

Tests that need GStreamer skip unless it is installed; tests against real parts also need
the janus and baresip Debian packages, root and iproute2 (network namespaces). Each skip
names what is missing; CI installs everything (.ci/run) and runs them as root.

    node_network   the namespace of the aiortc endpoints; its root end is the node's address
                   (Janus's ICE interface and the SIP plugin's address)
    sip_janus      a Janus with the SIP plugin bound to that address
    room           a VideoRoom (Opus/VP8) on it; `mixer_host` the mixers of that node
    terminal(...)  a baresip terminal in a namespace of its own
    plane          aiortc endpoints (media.testing.plane) in node_network
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def require_gstreamer(*elements: str) -> None:
    from diemcau.mixer.gst import unavailable_reason

    reason = unavailable_reason(elements or None)
    if reason:
        pytest.skip(f"mixer: {reason}")


def require_real_parts() -> None:
    from django.conf import settings

    from diemcau.mcu.testing.janus import NOT_INSTALLED
    from diemcau.mixer.testing import baresip

    require_gstreamer()
    if not os.access(settings.JANUS_BINARY, os.X_OK):
        pytest.skip(f"mixer: {NOT_INSTALLED}")
    reason = baresip.unavailable_reason()
    if reason:
        pytest.skip(f"mixer: {reason}")


@pytest.fixture
def gst_loop() -> Iterator[Any]:
    """The GLib main loop thread every pipeline change runs on."""
    require_gstreamer()
    from diemcau.mixer.gst import MainLoop

    loop = MainLoop()
    try:
        yield loop
    finally:
        loop.stop()


# ------------------------------------------------------------------------- real parts


@pytest.fixture(scope="session")
def node_network() -> Iterator[Any]:
    require_real_parts()
    from diemcau.media.testing.netns import MediaNetwork

    network = MediaNetwork.create()
    try:
        yield network
    finally:
        network.delete()


@pytest.fixture(scope="session")
def sip_janus(node_network: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Janus whose ICE uses the node network's veth and whose SIP plugin binds its
    address (never loopback), with RTP ports apart from Janus's own."""
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.mixer import sipconfig

    janus = JanusProcess(tmp_path_factory.mktemp("janus-sip"), interface=node_network.root_link)
    low = janus.config.rtp_port_range[0] + 20000 if janus.config.rtp_port_range[0] < 45000 \
        else janus.config.rtp_port_range[0] - 20000
    sipconfig.enable_sip(janus.config, sipconfig.SipSettings(
        node_network.root_address, rtp_port_range=(low, low + 199)))
    try:
        janus.start()
        yield janus
    finally:
        janus.stop(kill=True)


@pytest.fixture(scope="session")
def sip_front(node_network: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Kamailio on the node's address, port 5060: the address terminals dial."""
    from diemcau.mixer import sipfront

    reason = sipfront.unavailable_reason()
    if reason:
        pytest.skip(f"mixer: {reason}")
    front = sipfront.SipFront(tmp_path_factory.mktemp("sipfront"),
                              sipfront.FrontSettings(node_network.root_address))
    try:
        yield front.start()
    finally:
        front.stop()


@pytest.fixture
def room(sip_janus: Any) -> Iterator[Any]:
    from diemcau.mcu.janus_client import JanusError
    from diemcau.mixer.roomapi import RoomAccess

    access = RoomAccess(secrets.randbelow(2**52) + 1, "2468", "room-secret")
    with sip_janus.client().videoroom() as handle:
        handle.create(access.room, description="diemcau:mixer-test", pin=access.pin,
                      secret=access.secret, publishers=12, fir_freq=10,
                      audiocodec="opus", videocodec="vp8")
    yield access
    with sip_janus.client().videoroom() as handle, contextlib.suppress(JanusError):
        handle.destroy(access.room, secret=access.secret)


@pytest.fixture
def updates() -> list[Any]:
    """Every LegUpdate the mixer host reports."""
    return []


@pytest.fixture
def mixer_host(sip_janus: Any, node_network: Any, updates: list[Any]) -> Iterator[Any]:
    from diemcau.mixer.host import MixerHost
    from diemcau.mixer.room import MixerSettings
    from diemcau.mixer.video import Canvas, EncoderSettings

    host = MixerHost(sip_janus.access, MixerSettings(
        node_address=node_network.root_address, canvas=Canvas(640, 360, 15),
        encoding=EncoderSettings(h264_kbps=800, vp8_kbps=800, keyframe_seconds=2)),
        on_update=updates.append)
    try:
        yield host
    finally:
        host.close()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Any]:
    """`terminal(user=…, colour=…, tone_hz=…, codecs=…)` → a started baresip terminal in a
    namespace of its own; all stopped after the test."""
    from diemcau.mixer.testing.baresip import BaresipTerminal, terminal_network

    made: list[tuple[Any, Any]] = []

    def make(user: str = "terminal", **options: Any) -> BaresipTerminal:
        network = terminal_network()
        made.append((network, None))
        terminal = BaresipTerminal(network, tmp_path / f"baresip-{user}", user=user, **options)
        made[-1] = (network, terminal)
        return terminal.start()

    try:
        yield make
    finally:
        for network, terminal in made:
            if terminal is not None:
                terminal.stop()
            network.delete()


@pytest.fixture
def plane(node_network: Any, sip_janus: Any, tmp_path: Path) -> Iterator[Any]:
    from diemcau.media.testing.plane import MediaPlane

    media_plane = MediaPlane(node_network, sip_janus.access, tmp_path)
    try:
        yield media_plane
    finally:
        media_plane.close()
