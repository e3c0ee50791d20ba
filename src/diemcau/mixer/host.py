"""The mixers of one MCU node: what the Django side calls.

    host = MixerHost(janus_access, MixerSettings(node_address="10.0.0.5"),
                     on_update=print)                  # LegUpdate: calling, ringing, …
    leg = host.dial_out(room, LegSpec("leg-1", "UBND.Nha Trang"), "sip:vcs@10.1.2.3")
    host.set_layout(room.room, Layout.SPEAKER, main=leg.feed)
    host.quality("leg-1"); host.hangup("leg-1")
    host.listen(decide)                                # dial-in (see `dialin`)

One `RoomMixer` per room, made when its first leg needs it and dropped when it stops after
its last leg; one GLib main loop for all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from .codecs import LegCodecs
from .gst import MainLoop
from .janus import JanusAccess
from .layout import Layout
from .legs import LegSpec, LegUpdate, LineQuality, SipLeg
from .room import MixerSettings, RoomMixer
from .roomapi import RoomAccess


class MixerHost:
    def __init__(self, janus: JanusAccess, settings: MixerSettings, *,
                 on_update: Callable[[LegUpdate], None] | None = None,
                 on_speaker: Callable[[int, Hashable | None], None] | None = None) -> None:
        self.janus = janus
        self.settings = settings
        self.on_update = on_update
        self.on_speaker = on_speaker
        self.loop = MainLoop()
        self.rooms: dict[int, RoomMixer] = {}
        self.dial_in: Any = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ rooms

    def mixer(self, room: RoomAccess) -> RoomMixer:
        """The room's running mixer, started if need be."""
        with self._lock:
            found = self.rooms.get(room.room)
            if found is not None and not found.stopped:
                return found
            mixer = RoomMixer(self.janus, room, self.settings, self.loop,
                              on_update=self.on_update,
                              on_speaker=self._speaker_callback(room.room),
                              on_stopped=self._stopped)
            self.rooms[room.room] = mixer
            return mixer

    def running(self, room_id: int) -> RoomMixer | None:
        found = self.rooms.get(room_id)
        return found if found is not None and not found.stopped else None

    def _speaker_callback(self, room_id: int) -> Callable[[Hashable | None], None] | None:
        if self.on_speaker is None:
            return None
        callback = self.on_speaker
        return lambda feed: callback(room_id, feed)

    def _stopped(self, mixer: RoomMixer) -> None:
        with self._lock:
            if self.rooms.get(mixer.access.room) is mixer:
                del self.rooms[mixer.access.room]

    # ------------------------------------------------------------------ legs

    def dial_out(self, room: RoomAccess, spec: LegSpec, uri: str) -> SipLeg:
        """KH Đ11.7: call the endpoint's registered VCS address (or an upstream MCU)."""
        for _attempt in range(2):  # the mixer may be stopping just now: start a new one
            mixer = self.mixer(room)
            try:
                return mixer.dial(spec, uri)
            except RuntimeError:
                if not mixer.stopped:
                    raise
        raise RuntimeError(f"no mixer for room {room.room}")

    def leg(self, leg_id: str) -> tuple[RoomMixer, SipLeg] | None:
        for mixer in list(self.rooms.values()):
            leg = mixer.legs.get(leg_id)
            if leg is not None:
                return mixer, leg
        return None

    def hangup(self, leg_id: str) -> None:
        """The host's "remove" of a terminal: end its call."""
        found = self.leg(leg_id)
        if found is not None:
            found[1].hangup()

    def quality(self, leg_id: str) -> LineQuality | None:
        found = self.leg(leg_id)
        return found[1].quality() if found is not None else None

    # ------------------------------------------------------------------ controls

    def set_layout(self, room_id: int, layout: Layout, main: int | None = None) -> None:
        mixer = self.running(room_id)
        if mixer is not None:
            mixer.set_layout(layout, main)

    def set_label(self, room_id: int, feed: int, label: str) -> None:
        mixer = self.running(room_id)
        if mixer is not None:
            mixer.set_label(feed, label)

    def set_muted(self, room_id: int, feed: int, muted: bool) -> None:
        mixer = self.running(room_id)
        if mixer is not None:
            mixer.set_muted(feed, muted)

    def mute_leg(self, leg_id: str, muted: bool) -> None:
        """Mute or give the floor to a terminal, for the mixer and the browsers."""
        found = self.leg(leg_id)
        if found is not None:
            found[0].mute_feed(found[1].feed, muted)

    # ------------------------------------------------------------------ upstream MCU

    def link_upstream(self, room: RoomAccess, uri: str, label: str,
                      codecs: LegCodecs | None = None) -> SipLeg:
        """R23: call the upstream (national) MCU; it gets the composed picture and mixed
        sound, and enters the room as a participant named `label`, not muted."""
        from .upstream import link_upstream

        return link_upstream(self, room, uri, label, codecs)

    def check_link(self, room: RoomAccess, uri: str, label: str,
                   codecs: LegCodecs | None = None, seconds: float = 3.0) -> Any:
        """KH Đ16.1 / ĐN Đ5.4: test the link to the upstream MCU before the session
        (an `upstream.LinkReport`)."""
        from .upstream import check_link

        return check_link(self, room, uri, label, codecs, seconds)

    # ------------------------------------------------------------------ dial-in

    def listen(self, decide: Callable[..., Any], **options: Any) -> Any:
        """Take incoming calls: `decide(IncomingCall)` admits one to a room or refuses
        it (see `dialin.DialIn`)."""
        from .dialin import DialIn

        with self._lock:
            if self.dial_in is None:
                self.dial_in = DialIn(self, decide, **options)
            return self.dial_in

    def close(self) -> None:
        if self.dial_in is not None:
            self.dial_in.close()
        for mixer in list(self.rooms.values()):
            mixer.stop()
        self.loop.stop()
