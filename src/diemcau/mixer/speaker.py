"""The active speaker from audio levels, with hysteresis (pure Python, fed by the `level`
element's messages about ten times a second per input).

An input becomes the speaker when it has been the loudest, above `threshold_db` and by at
least `margin_db` over the current speaker, for `hold` seconds without a break. Silence never
takes the floor away: the last speaker stays until somebody else talks, so the picture does
not jump on every pause.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SILENT_DB = -127.0


@dataclass
class ActiveSpeaker(Generic[K]):
    threshold_db: float = -45.0
    margin_db: float = 6.0
    hold: float = 1.0
    stale: float = 0.5  # a level older than this counts as silence (input gone or muted)
    speaker: K | None = None
    _levels: dict[K, tuple[float, float]] = field(default_factory=dict)  # key → (dB, when)
    _candidate: K | None = None
    _since: float = 0.0

    def forget(self, key: K) -> None:
        self._levels.pop(key, None)
        if self._candidate == key:
            self._candidate = None
        if self.speaker == key:
            self.speaker = None

    def level(self, key: K, now: float) -> float:
        db, when = self._levels.get(key, (SILENT_DB, 0.0))
        return db if now - when <= self.stale else SILENT_DB

    def update(self, key: K, db: float, now: float) -> K | None:
        """Record one level; return the speaker (changed or not)."""
        self._levels[key] = (db, now)
        loudest = max(self._levels, key=lambda k: self.level(k, now))
        loud = self.level(loudest, now)
        if loud < self.threshold_db or loudest == self.speaker:
            self._candidate = None
            return self.speaker
        if self.speaker is not None and loud < self.level(self.speaker, now) + self.margin_db:
            self._candidate = None
            return self.speaker
        if self._candidate != loudest:
            self._candidate, self._since = loudest, now
        if now - self._since >= self.hold or self.speaker is None and self.hold <= 0:
            self.speaker, self._candidate = loudest, None
        return self.speaker
