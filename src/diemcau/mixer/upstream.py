"""The link to the upstream MCU (R23: the Government's, the Party's or the National
Assembly's system; ĐN Đ5.4, KH Đ4.1, Đ5.4): a SIP leg like a terminal's. The upstream gets
the room's composed picture and mixed sound; its picture and sound enter the room as a
participant, named as the rulebook says, and are not muted on entry (it chairs).

KH Đ16.1 / ĐN Đ5.4: the link is tested before the session. `check_link` dials it, waits
for media both ways for a few seconds, reads the line quality and hangs up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .codecs import LegCodecs
from .legs import LegSpec, LegState, LegUpdate, LineQuality, SipLeg
from .roomapi import RoomAccess

UPSTREAM_LEG = "upstream"


def upstream_spec(label: str, codecs: LegCodecs | None = None,
                  leg_id: str = UPSTREAM_LEG) -> LegSpec:
    return LegSpec(leg_id, label, codecs or LegCodecs(), muted_on_entry=False)


def link_upstream(host: object, room: RoomAccess, uri: str, label: str,
                  codecs: LegCodecs | None = None, leg_id: str = UPSTREAM_LEG) -> SipLeg:
    """Call the upstream MCU for the room's meeting."""
    return host.dial_out(  # type: ignore[attr-defined,no-any-return]
        room, upstream_spec(label, codecs, leg_id), uri)


@dataclass(frozen=True)
class LinkReport:
    ok: bool
    state: LegState
    code: int | None
    reason: str
    answered_after: float | None  # seconds from the INVITE to the answer
    received: dict[str, bool]  # "audio"/"video" → the upstream's media arrived
    quality: LineQuality | None


def check_link(host: object, room: RoomAccess, uri: str, label: str,
              codecs: LegCodecs | None = None, seconds: float = 3.0,
              timeout: float = 30.0) -> LinkReport:
    """Dial the upstream MCU, hold the call `seconds` once media flows both ways, report,
    and hang up (the room's mixer stops again if nothing else uses it)."""
    seen: list[LegUpdate] = []
    leg_id = f"{UPSTREAM_LEG}-test-{int(time.time() * 1000)}"
    started = time.monotonic()
    leg = link_upstream(host, room, uri, label, codecs, leg_id)
    deadline = started + timeout
    answered: float | None = None
    while time.monotonic() < deadline:
        seen = list(leg.updates)
        if leg.state == LegState.ACCEPTED and answered is None:
            answered = time.monotonic() - started
        if leg.state.ended:
            break
        if answered is not None and leg.receiving() == {"audio": True, "video": True}:
            break
        time.sleep(0.1)
    received = leg.receiving()
    quality = None
    if leg.state == LegState.ACCEPTED:
        time.sleep(seconds)
        quality = leg.quality()
        received = leg.receiving()
    seen = list(leg.updates)
    state, last = leg.state, (seen[-1] if seen else None)
    if not leg.state.ended:
        leg.hangup()
    ok = state == LegState.ACCEPTED and all(received.values())
    return LinkReport(ok, state, last.code if last else None, last.reason if last else "",
                      answered, received, quality)
