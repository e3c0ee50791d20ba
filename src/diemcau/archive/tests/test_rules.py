"""The handover deadline on the working-day calendar (ĐN Đ13.3, KH Đ15.3): 2 working days
after the session's end, across a weekend, Vietnam Culture Day (24/11) and Tết; the
warning before it and the breach after it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from diemcau.archive.models import Recording
from diemcau.archive.rules import HandoverState, handover_deadline, handover_due, keep_until
from diemcau.rulebooks import load_rulebook

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=TZ)


@pytest.mark.parametrize("name", ["khanh-hoa-2023", "dong-nai-2025"])
@pytest.mark.parametrize(("ended", "due"), [
    # An ordinary Tuesday: Thursday, same time.
    (at(2026, 3, 10, 16, 30), at(2026, 3, 12, 16, 30)),
    # Friday: the weekend does not count → Tuesday.
    (at(2026, 3, 13, 10, 0), at(2026, 3, 17, 10, 0)),
    # A meeting on Saturday: Monday and Tuesday.
    (at(2026, 3, 14, 9, 0), at(2026, 3, 17, 9, 0)),
    # Monday 23/11/2026: Tuesday 24/11 is Vietnam Culture Day → Wednesday, Thursday.
    (at(2026, 11, 23, 15, 0), at(2026, 11, 26, 15, 0)),
    # Friday 13/2/2026 before Tết (16–20/2 off): Monday 23/2, Tuesday 24/2.
    (at(2026, 2, 13, 14, 0), at(2026, 2, 24, 14, 0)),
    # Ended on the eve of Tết 2027 (4–10/2 off): 11/2 and 12/2.
    (at(2027, 2, 3, 17, 0), at(2027, 2, 12, 17, 0)),
])
def test_the_handover_is_due_two_working_days_after_the_end(name, ended, due):
    rulebook = load_rulebook(name)
    assert rulebook.handover.working_days == 2
    assert handover_due(ended, rulebook) == due


def test_warning_breach_and_a_late_handover(use_rulebook):
    use_rulebook("khanh-hoa-2023")
    due = at(2026, 3, 12, 16, 30)
    record = Recording(handover_due_at=due)
    assert handover_deadline(record, now=due - dt.timedelta(hours=5)).state == HandoverState.DUE
    soon = handover_deadline(record, now=due - dt.timedelta(hours=3))
    assert soon.state == HandoverState.DUE_SOON and "Điều 15.3" in soon.article
    assert handover_deadline(record, now=due + dt.timedelta(minutes=1)).missed
    record.handed_over_at = due + dt.timedelta(hours=1)
    assert handover_deadline(record, now=due).state == HandoverState.DONE_LATE


def test_retention_from_the_rulebook_or_the_setting(use_rulebook, settings):
    use_rulebook("khanh-hoa-2023")
    ended = at(2026, 3, 10, 16, 30)
    assert keep_until(ended) == ended + dt.timedelta(days=1825)
    settings.ARCHIVE_RETENTION_DAYS = 0
    assert keep_until(ended) is None
    settings.ARCHIVE_RETENTION_DAYS = 30
    assert keep_until(ended) == ended + dt.timedelta(days=30)
