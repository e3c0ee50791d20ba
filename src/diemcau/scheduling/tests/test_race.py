"""Concurrent approvals from several processes never exceed MCU capacity nor double-book an
endpoint (issue: "never overbooked"). Each child process opens its own database connection
and calls `accept_meeting` at the same moment. Runs on whichever database the suite uses;
CI runs it on PostgreSQL (where the exclusion constraint also guards endpoints) and SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from diemcau.core.audit import verify_chain
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind
from diemcau.scheduling.choices import HoldKind, MeetingStatus
from diemcau.scheduling.models import Booking, Meeting
from diemcau.scheduling.services import registration
from diemcau.scheduling.tests.test_services import meeting_input, working_day_at
from diemcau.testing.factories import (
    AgencyFactory,
    ApprovedEndpointFactory,
    McuNodeFactory,
    UserFactory,
)

# Real commits: each child process reads what the test wrote through its own connection.
pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

CHILD = """
import json, os, sys, time
import django
django.setup()
from diemcau.core.errors import InvalidInput, RuleViolation
from diemcau.core.models import User
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services.lifecycle import accept_meeting
meeting_id, operator_id, start_at = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
operator = User.objects.get(pk=operator_id)
meeting = Meeting.objects.get(pk=meeting_id)
while time.time() < start_at:
    time.sleep(0.001)
try:
    accept_meeting(meeting, actor=operator)
    print(json.dumps({"meeting": meeting_id, "result": "accepted"}))
except RuleViolation as exc:
    print(json.dumps({"meeting": meeting_id, "result": exc.code}))
except InvalidInput as exc:
    print(json.dumps({"meeting": meeting_id, "result": "invalid"}))
"""


def _child_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="diemcau.settings", DIEMCAU_RULEBOOK="khanh-hoa-2023"
    )
    if connection.vendor == "postgresql":
        user, host, port = settings["USER"], settings["HOST"], settings["PORT"]
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{settings['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{Path(settings['NAME']).resolve()}"
    return env


def _race(meetings: list[Meeting], operator_id: int) -> list[str]:
    """Start one process per meeting; they all call accept_meeting at the same instant."""
    start_at = time.time() + 4.0  # time for every child to import Django first
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(m.pk), str(operator_id), str(start_at)],
            env=_child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in meetings
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1])["result"])
    return results


@pytest.fixture
def province(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    kh_tree.operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    return kh_tree


def _district_meeting(province, n: int, start: dt.datetime, participants=()) -> Meeting:
    agency = AgencyFactory(
        parent=province.province,
        kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
        name=f"UBND huyện Đua {n}",
        abbreviation=f"D{n}",
    )
    endpoint = ApprovedEndpointFactory(agency=agency, name=f"UBND.Dua {n}")
    return registration.create_meeting(
        meeting_input(agency, endpoint, list(participants), start), actor=province.operator
    )


def test_racing_approvals_never_exceed_the_capacity_cap(province):
    node = McuNodeFactory(name="mcu-race", max_meetings=5, max_endpoints=100)  # cap: 4
    start = working_day_at(5, 9)
    meetings = [_district_meeting(province, n, start) for n in range(8)]
    results = _race(meetings, province.operator.pk)
    assert results.count("accepted") == node.meeting_cap(80) == 4
    assert results.count("mcu_capacity_full") == 4
    held = Booking.objects.filter(node=node, endpoint__isnull=True, holds=True,
                                  kind=HoldKind.SESSION)
    assert held.count() == 4
    assert Meeting.objects.filter(status=MeetingStatus.ACCEPTED).count() == 4
    assert verify_chain().ok


def test_racing_approvals_never_double_book_an_endpoint(province):
    McuNodeFactory(name="mcu-big", max_meetings=50, max_endpoints=500)
    shared = ApprovedEndpointFactory(agency=province.commune, name="NT.XuongHuan")
    start = working_day_at(5, 14)
    meetings = [
        _district_meeting(province, n, start + dt.timedelta(minutes=10 * n), [shared])
        for n in range(6)
    ]
    results = _race(meetings, province.operator.pk)
    assert results.count("accepted") == 1
    assert results.count("invalid") == 5  # "already booked at that time"
    assert Booking.objects.filter(endpoint=shared, holds=True).count() == 1
