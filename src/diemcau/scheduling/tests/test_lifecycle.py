"""The meeting lifecycle: one table of transitions, applied by one module."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from diemcau.core.errors import InvalidTransition
from diemcau.scheduling.choices import MeetingStatus as S
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import lifecycle
from diemcau.scheduling.services.lifecycle import TRANSITIONS, Transition
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

SRC = Path(__file__).resolve().parents[2]

EXPECTED = {
    Transition.SUBMIT: ({S.DRAFT}, S.SUBMITTED),
    Transition.ACCEPT: ({S.SUBMITTED}, S.ACCEPTED),
    Transition.REFUSE: ({S.SUBMITTED}, S.REFUSED),
    Transition.REVOKE: ({S.ACCEPTED}, S.REVOKED),
    Transition.CANCEL: ({S.DRAFT, S.SUBMITTED, S.ACCEPTED}, S.CANCELLED),
    Transition.GO_LIVE: ({S.ACCEPTED}, S.LIVE),
    Transition.END: ({S.ACCEPTED, S.LIVE}, S.ENDED),
    Transition.END_BY_SYSTEM: ({S.ACCEPTED, S.LIVE}, S.ENDED),
}


def test_the_table_of_transitions():
    assert {t: (set(rule.sources), rule.target) for t, rule in TRANSITIONS.items()} == EXPECTED


def test_refused_cancelled_revoked_and_ended_are_final():
    for final in (S.REFUSED, S.CANCELLED, S.REVOKED, S.ENDED):
        assert not [t for t, rule in TRANSITIONS.items() if final in rule.sources]


def _meeting(status: str) -> Meeting:
    endpoint = ApprovedEndpointFactory()
    start = timezone.now() + dt.timedelta(days=3)
    return Meeting.objects.create(
        title="Họp", host_agency=endpoint.agency, host_endpoint=endpoint, starts_at=start,
        ends_at=start + dt.timedelta(hours=1), place="P", contact_name="A",
        contact_phone="0912345678", status=status, node=McuNodeFactory(),
        created_by=UserFactory(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("transition", list(Transition))
def test_every_status_moves_only_as_the_table_says(status, transition):
    meeting = _meeting(status)
    rule = TRANSITIONS[transition]
    if status in rule.sources:
        previous = lifecycle._move(meeting, transition)
        assert (previous, meeting.status) == (status, rule.target)
    else:
        with pytest.raises(InvalidTransition):
            lifecycle._move(meeting, transition)
        assert meeting.status == status


def _status_writes(path: Path) -> list[int]:
    """Lines that assign a meeting's status: `<x>.status = …` on a name other than a
    participation's or an incident's, or `update(status=…)` on meetings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if (isinstance(target, ast.Attribute) and target.attr == "status"
                    and isinstance(target.value, ast.Name)
                    and target.value.id in {"meeting", "victim", "current", "m", "occurrence"}):
                lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_writes_a_meetings_status():
    offenders = {}
    for path in SRC.rglob("*.py"):
        parts = set(path.relative_to(SRC).parts)
        if parts & {"tests", "migrations", "testing"} or path.name in {"demo.py"}:
            continue
        if path.name == "lifecycle.py" and "scheduling" in parts:
            continue
        found = _status_writes(path)
        if found:
            offenders[str(path.relative_to(SRC))] = found
    assert offenders == {}
