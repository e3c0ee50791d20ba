"""The delay part of bench/mixer.py: glass-to-glass delays from frame numbers carried in
the pictures, through the mixer and through the plain SFU, in the same run (see mixer.py's
docstring for what is measured and how)."""

from __future__ import annotations

import contextlib
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FPS = 15
SIZE = (320, 180)
PIN, SECRET = "2468", "bench-secret"


def measure(var_dir: Path, seconds: float, report: Callable[[list[float]], str]) -> None:
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.media.testing.netns import MediaNetwork
    from diemcau.media.testing.plane import MediaPlane
    from diemcau.mixer import sipconfig
    from diemcau.mixer.codecs import LegCodecs
    from diemcau.mixer.host import MixerHost
    from diemcau.mixer.legs import LegSpec
    from diemcau.mixer.room import MixerSettings
    from diemcau.mixer.roomapi import RoomAccess
    from diemcau.mixer.testing import frames, scenes
    from diemcau.mixer.testing.baresip import BaresipTerminal, TerminalCodecs, terminal_network
    from diemcau.mixer.video import Canvas

    network = MediaNetwork.create()
    terminal_net = terminal_network()
    janus = JanusProcess(var_dir / "janus", interface=network.root_link)
    low = janus.config.rtp_port_range[0]
    low = low + 20000 if low < 45000 else low - 20000
    sipconfig.enable_sip(janus.config, sipconfig.SipSettings(network.root_address,
                                                             rtp_port_range=(low, low + 199)))
    plane: Any = None
    host: Any = None
    terminal: Any = None
    try:
        janus.start()
        room = RoomAccess(secrets.randbelow(2**52) + 1, PIN, SECRET)
        with janus.client().videoroom() as handle:
            handle.create(room.room, description="bench:mixer", pin=PIN, secret=SECRET,
                          publishers=6, fir_freq=10, audiocodec="opus", videocodec="vp8")
        plane = MediaPlane(network, janus.access, var_dir)
        sender = plane.endpoint("sender", colour=frames.GREEN, width=SIZE[0], height=SIZE[1],
                                fps=FPS, frame_numbers=True)
        plane.join(sender.attached["publisher"], room=room.room, pin=PIN, display="sender")
        sender_feed = int(sender.wait_joined()["id"])
        sender.publish()
        viewer = plane.endpoint("viewer", audio=False, video=False, frame_numbers=True)
        scenes.watch(plane, room, viewer, [sender_feed])

        updates: list[Any] = []
        host = MixerHost(janus.access, MixerSettings(node_address=network.root_address,
                                                     canvas=Canvas(1280, 720, 25)),
                         on_update=updates.append)
        terminal = BaresipTerminal(terminal_net, var_dir / "terminal", user="terminal",
                                   colour=frames.BLUE, size=SIZE, fps=FPS,
                                   codecs=TerminalCodecs(audio="PCMU", video="H264"),
                                   frame_numbers=True).start()
        leg = host.dial_out(room, LegSpec("terminal", "Terminal", LegCodecs("H264", "PCMU")),
                            terminal.uri)
        scenes.wait_state(updates, "terminal", "accepted")
        mixer = host.running(room.room)
        scenes.wait_for(lambda: len(mixer.mixer.video.tiles()) == 2, timeout=30,
                        what="both inputs in the mixer")
        scenes.watch(plane, room, viewer, [leg.feed])
        time.sleep(5)  # keyframes everywhere, queues settled

        to_terminal: list[float] = []
        send_marks: list[tuple[int, float]] = []
        deadline = time.monotonic() + seconds
        from diemcau.mixer.testing.numbers import read_number

        while time.monotonic() < deadline:
            picture, asked = terminal.snapshot_timed("recv")
            arrived = asked + 0.5 / 25  # the next composed frame: within 40 ms of asking
            tile = mixer.mixer.video.tiles().get(sender_feed)
            sent, _ = sender.numbers()
            if tile is not None:
                sx, sy = picture.width / 1280, picture.height / 720
                number = read_number(picture, int(tile.x * sx), int(tile.y * sy),
                                     int(tile.width * sx), int(tile.height * sy))
                if number in sent and 0 < arrived - sent[number] < 3:
                    to_terminal.append(arrived - sent[number])
            picture, asked = terminal.snapshot_timed("send")
            send_marks.append((read_number(picture), asked))
            time.sleep(0.2)

        sent = sender.numbers()[0]
        received = viewer.numbers()[1]
        sfu = [t - sent[n] for n, t in received.get(sender_feed, {}).items()
               if n in sent and 0 < t - sent[n] < 3]
        # baresip paces its lavfi source by frame number: frame n leaves at start + n/FPS,
        # and a snapshot asked at t catches the frame leaving within 1/FPS after t.
        # baresip's pacing drifts by about a frame under load: the median of the samples.
        start = statistics.median(t + 0.5 / FPS - n / FPS for n, t in send_marks) \
            if send_marks else 0.0
        from_terminal = [t - (start + n / FPS)
                         for n, t in received.get(leg.feed, {}).items()
                         if 0 < t - (start + n / FPS) < 3]
        print(f"\nGlass-to-glass delays ({seconds:.0f} s; pictures {SIZE[0]}x{SIZE[1]} at "
              f"{FPS} fps; mixer canvas 1280x720@25, H.264 to the terminal):")
        print(f"  browser → browser (SFU)       {report(sfu)}")
        print(f"  browser → terminal (mixed)    {report(to_terminal)}")
        print(f"  terminal → browser            {report(from_terminal)}")
        if sfu and to_terminal:
            added = statistics.median(to_terminal) - statistics.median(sfu)
            print(f"  the mixed path adds {1000 * added:.0f} ms (median) over the SFU path")
    finally:
        if host is not None:
            host.close()
        if terminal is not None:
            terminal.stop()
        if plane is not None:
            with contextlib.suppress(Exception):
                plane.close()
        janus.stop(kill=True)
        terminal_net.delete()
        network.delete()
