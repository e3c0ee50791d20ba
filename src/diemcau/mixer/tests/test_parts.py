"""The mixer's pure parts: generated SIP configs, SDP trimming, the dial-in call's fields,
RTCP keyframe requests, line quality from webrtcbin statistics."""

from __future__ import annotations

from pathlib import Path

import pytest

from diemcau.mcu import janus_config
from diemcau.mixer import rtcp, sipconfig, sipfront
from diemcau.mixer.dialin import incoming_call
from diemcau.mixer.legs import _only_chosen, line_quality
from diemcau.mixer.webrtc import offered_codecs

OFFER = """v=0\r
o=- 1 1 IN IP4 10.0.0.2\r
s=-\r
t=0 0\r
m=audio 9 UDP/TLS/RTP/SAVPF 0 101\r
a=mid:0\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-15\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97 100 102\r
a=mid:1\r
a=rtpmap:96 H264/90000\r
a=fmtp:96 packetization-mode=0;profile-level-id=42e01f\r
a=rtpmap:97 H264/90000\r
a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r
a=rtpmap:100 VP8/90000\r
a=rtpmap:102 rtx/90000\r
a=fmtp:102 apt=96\r
a=rtcp-fb:96 nack pli\r
a=ssrc-group:FID 1 2\r
"""


def test_the_sip_plugin_is_enabled_on_the_nodes_address(tmp_path: Path, settings):
    config = janus_config.JanusConfig(
        directory=tmp_path, secrets=janus_config.load_or_create_secrets(tmp_path),
        lib_dir=Path(settings.JANUS_LIB_DIR))
    janus_config.write_config(config)
    sipconfig.enable_sip(config, sipconfig.SipSettings("10.1.2.3", (21000, 21099)))
    main = (tmp_path / janus_config.MAIN_FILE).read_text()
    disabled = main.split("plugins: {")[1].split("}")[0].split(",")
    assert not any(name.strip(' "\t\n').endswith("libjanus_sip.so") for name in disabled)
    assert any("libjanus_nosip.so" in name for name in disabled)  # the rest stays off
    sip = (tmp_path / sipconfig.SIP_FILE).read_text()
    assert 'local_ip = "10.1.2.3"' in sip and 'rtp_port_range = "21000-21099"' in sip
    with pytest.raises(ValueError):
        sipconfig.SipSettings("127.0.0.1")


def test_the_sip_front_listens_on_the_node_and_sets_its_own_headers():
    front = sipfront.FrontSettings("10.1.2.3", token="t0k")
    text = sipfront.config(front)
    assert "listen=udp:10.1.2.3:5060" in text
    assert 'remove_hf_re("^X-Diemcau-")' in text  # a terminal's own are never trusted
    assert "X-Diemcau-Source: $si" in text and "X-Diemcau-Front: t0k" in text
    assert front.dial_uri("482913") == "sip:482913@10.1.2.3"
    with pytest.raises(ValueError):
        sipfront.FrontSettings("127.0.0.1")


def test_an_offer_keeps_only_the_chosen_codec_at_its_first_payload_type():
    assert offered_codecs(OFFER)["video"][:3] == [
        (96, "H264", "packetization-mode=0;profile-level-id=42e01f"),
        (97, "H264", "packetization-mode=1;profile-level-id=42e01f"), (100, "VP8", "")]
    trimmed = _only_chosen(OFFER, {"audio": (0, "PCMU", ""),
                                   "video": (96, "H264", "packetization-mode=1")})
    assert "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" in trimmed
    assert "a=fmtp:96 packetization-mode=1\r\n" in trimmed
    assert "packetization-mode=0" not in trimmed and "rtx" not in trimmed
    assert "ssrc-group" not in trimmed and "a=rtcp-fb:96 nack pli" in trimmed
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n" in trimmed and "telephone-event" not in trimmed


def test_an_incoming_call_takes_the_fronts_headers():
    call = incoming_call({"username": "sip:vcs@10.9.9.9", "callee": "sip:diemcau@10.1.2.3",
                          "displayname": '"Phong hop"',
                          "headers": {"X-Diemcau-Source": "10.9.9.9",
                                      "X-Diemcau-Dialled": "482913"}}, "c1")
    assert (call.caller, call.source, call.dialled, call.display) == (
        "sip:vcs@10.9.9.9", "10.9.9.9", "482913", "Phong hop")


def test_keyframe_requests_are_recognised_in_compound_rtcp():
    compound = rtcp.empty_receiver_report() + rtcp.pli(1010)
    assert rtcp.asks_keyframe(compound)
    assert not rtcp.asks_keyframe(rtcp.empty_receiver_report())


def test_line_quality_adds_up_what_was_received():
    quality = line_quality({
        "a": {"type": "inbound-rtp", "packets-received": 90, "packets-lost": 10,
              "jitter": 0.004},
        "b": {"type": "inbound-rtp", "packets-received": 10, "packets-lost": -1},
        "c": {"type": "remote-inbound-rtp", "round-trip-time": 0.02, "fraction-lost": 0.1}})
    assert quality.packets_received == 100 and quality.packets_lost == 10
    assert quality.jitter_ms == pytest.approx(4) and quality.rtt_ms == pytest.approx(20)
    assert quality.fraction_lost == pytest.approx(0.1)
