"""Active speaker detection from levels, with hysteresis."""

from __future__ import annotations

from diemcau.mixer.speaker import ActiveSpeaker


def feed(speaker: ActiveSpeaker[str], levels: dict[str, float], start: float, seconds: float,
         step: float = 0.1) -> str | None:
    now, result = start, speaker.speaker
    while now < start + seconds - 1e-9:
        for key, db in levels.items():
            result = speaker.update(key, db, now)
        now += step
    return result


def test_a_voice_takes_the_floor_after_the_hold_time_only():
    speaker: ActiveSpeaker[str] = ActiveSpeaker(hold=1.0)
    assert feed(speaker, {"a": -20, "b": -70}, 0, 0.5) is None
    assert feed(speaker, {"a": -20, "b": -70}, 0.5, 0.7) == "a"


def test_a_short_burst_does_not_steal_the_floor():
    speaker: ActiveSpeaker[str] = ActiveSpeaker(hold=1.0)
    feed(speaker, {"a": -20, "b": -70}, 0, 1.5)
    assert feed(speaker, {"a": -30, "b": -10}, 1.5, 0.5) == "a"  # a cough
    assert feed(speaker, {"a": -30, "b": -60}, 2.0, 1.0) == "a"
    assert feed(speaker, {"a": -40, "b": -10}, 3.0, 1.2) == "b"  # b really talks


def test_silence_keeps_the_last_speaker_and_a_close_level_does_not_switch():
    speaker: ActiveSpeaker[str] = ActiveSpeaker(hold=0.5, margin_db=6)
    feed(speaker, {"a": -20, "b": -80}, 0, 1)
    assert feed(speaker, {"a": -90, "b": -90}, 1, 3) == "a"
    assert feed(speaker, {"a": -20, "b": -17}, 4, 2) == "a"  # 3 dB louder: not enough


def test_a_muted_or_removed_input_stops_counting():
    speaker: ActiveSpeaker[str] = ActiveSpeaker(hold=0.5)
    feed(speaker, {"a": -20, "b": -60}, 0, 1)
    speaker.forget("a")
    assert speaker.speaker is None
    assert feed(speaker, {"b": -30}, 1, 1) == "b"
    # no more levels from b (muted upstream): they go stale, c wins without a margin fight
    assert feed(speaker, {"c": -35}, 2.6, 0.8) == "c"
