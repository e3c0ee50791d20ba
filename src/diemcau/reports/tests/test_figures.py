"""The figures of the hand-counted half-year (`conftest.half_year`), figure by figure: the
province as the operator sees it, and the district as its office sees it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diemcau.reports import figures, periods
from diemcau.reports.basis import Basis
from diemcau.reports.scope import ReportScope

H1 = periods.parse("2025-H1")
HOUR = 3600


def compute(user, scope=None):  # type: ignore[no-untyped-def]
    scope = scope or ReportScope.for_user(user)
    return figures.compute(Basis(H1, scope, user=user))


@pytest.fixture
def province(half_year):  # type: ignore[no-untyped-def]
    return compute(half_year.operator)


def test_periods(province):  # type: ignore[no-untyped-def]
    assert province["period"] == {"first": "2025-01-01", "last": "2025-06-30", "months": 6,
                                  "key": "2025-H1"}
    assert province["previous"]["key"] == "2024-H2"


def test_meetings_by_outcome_level_type_and_urgency(province):  # type: ignore[no-untyped-def]
    m = province["meetings"]
    # M1–M9 against P1, P2; the draft and O1 never count.
    assert m["total"]["total"] == [9, 2]
    assert m["total"]["outcome"] == {
        "held": [3, 1], "accepted": [1, 0], "waiting": [1, 0], "refused": [2, 1],
        "cancelled": [1, 0], "revoked": [1, 0],
    }
    # MCU use: M1 2 h + its 1 h rehearsal, M2 1.5 h, M3 2 h; P1 2 h.
    assert m["total"]["seconds"] == [int(6.5 * HOUR), 2 * HOUR]
    levels = {key: line["total"] for key, line in m["by_level"].items()}
    assert levels == {"central": [1, 0], "province": [1, 0], "district": [4, 2],
                      "commune": [3, 0]}
    assert m["by_level"]["district"]["outcome"]["revoked"] == [1, 0]
    assert m["by_level"]["district"]["outcome"]["refused"] == [2, 1]  # M4, M5; P2
    assert m["by_level"]["commune"]["seconds"] == [int(1.5 * HOUR), 0]
    agencies = {line["name"]: line["total"] for line in m["by_agency"]}
    assert agencies == {
        "UBND tỉnh Khánh Hòa": [1, 0], "Sở Thông tin và Truyền thông": [1, 0],
        "UBND thành phố Nha Trang": [3, 1], "UBND phường Xương Huân": [2, 0],
        "UBND thành phố Cam Ranh": [1, 1], "UBND phường Cam Nghĩa": [1, 0],
    }
    assert {k: v["total"] for k, v in m["by_type"].items()} == {
        "briefing": [1, 0], "thematic": [1, 0], "working": [7, 2]}
    assert {k: v["total"] for k, v in m["by_urgency"].items()} == {
        "normal": [8, 2], "urgent": [1, 0]}


def test_attendance_per_endpoint(province):  # type: ignore[no-untyped-def]
    lines = {line["name"]: line for line in province["attendance"]["endpoints"]}
    district, ward = lines["UBND.Nha Trang"], lines["NT.XuongHuan"]
    assert district["invited"] == [3, 1] and district["attended"] == [3, 1]
    assert district["missed"] == [0, 0]
    assert district["seconds"] == [int(4.5 * HOUR), 2 * HOUR]
    assert ward["invited"] == [3, 1] and ward["attended"] == [3, 0] and ward["missed"] == [0, 1]
    assert ward["seconds"] == [(105 + 90 + 60) * 60, 0]  # a reconnection adds up
    assert lines["UBND.Khanh Hoa"]["invited"] == [2, 0]
    assert lines["UBND.Khanh Hoa"]["missed"] == [1, 0]
    assert lines["UBND.Cam Ranh"]["attended"] == [0, 0]
    assert lines["UBND.Cam Ranh"]["missed"] == [1, 0]
    assert "CR.CamNghia" not in lines  # invited to nothing held
    assert province["attendance"]["total"] == {
        "invited": [9, 2], "attended": [7, 1], "missed": [2, 1],
        "seconds": [int((4.5 + 4.25 + 2) * HOUR), 2 * HOUR],
    }


def test_nodes_peak_and_hours_at_the_cap(province):  # type: ignore[no-untyped-def]
    nodes = {line["name"]: line for line in province["nodes"]["nodes"]}
    assert province["nodes"]["load_shown"] is True
    one, two = nodes["mcu-1"], nodes["mcu-2"]
    assert one["sessions"] == [2, 1] and two["sessions"] == [1, 0]
    assert (one["meeting_cap"], one["endpoint_cap"]) == (4, 80)
    assert one["peak_meetings"] == [2, 1] and one["peak_endpoints"] == [4, 2]
    assert one["seconds_busy"] == [int(8.5 * HOUR), 4 * HOUR]
    assert one["seconds_at_cap"] == [0, 0]
    assert (two["meeting_cap"], two["endpoint_cap"]) == (1, 8)
    assert two["peak_meetings"] == [1, 0] and two["peak_endpoints"] == [4, 0]
    assert two["seconds_at_cap"] == [4 * HOUR, 0]


def test_reply_sla(province):  # type: ignore[no-untyped-def]
    sla = province["reply_sla"]
    assert sla["received"] == [9, 2]
    assert sla["in_time"] == [6, 2]  # M1 M3 M4 M5 M7 M9; P1 P2
    assert sla["late"] == [1, 0] and sla["overdue"] == [1, 0]  # M2; M8
    assert sla["withdrawn"] == [1, 0] and sla["waiting"] == [0, 0]  # M6
    assert sla["breaches"] == [2, 0]
    assert sla["share_in_time"] == [75.0, 100.0]
    assert sla["average_reply_seconds"] == [8400, HOUR]  # (1+5+2+1+3+2) h / 6
    assert sla["article"] == "Điều 13.2b Quy chế KH"


def test_refusals_by_article_and_rule(province):  # type: ignore[no-untyped-def]
    r = province["refusals"]
    assert r["by_article"] == [{"article": "Điều 12.4a", "rule": "capacity", "count": [1, 1]}]
    assert r["none_cited"] == [1, 0]
    assert r["revocation_article"] == "Điều 12.4b Quy chế KH"


def test_technical_checks(province):  # type: ignore[no-untyped-def]
    c = province["checks"]
    assert c["due"] == [4, 1] and c["passed"] == [1, 1] and c["failed"] == [2, 0]
    assert c["not_recorded"] == [1, 0]
    assert c["pass_rate"] == [33.3, 100.0]
    failed = {k: v for k, v in c["failed_items"].items() if v != [0, 0]}
    assert failed == {"sound": [1, 0], "connection": [1, 0], "power": [1, 0]}


def test_incidents(province):  # type: ignore[no-untyped-def]
    i = province["incidents"]
    assert i["kinds"]["check"] == {"opened": [1, 0], "closed": [1, 0], "open": [0, 0],
                                   "average_seconds": [1800, 0], "longest_seconds": [1800, 0]}
    assert i["kinds"]["session"] == {"opened": [2, 0], "closed": [1, 0], "open": [1, 0],
                                     "average_seconds": [3600, 0],
                                     "longest_seconds": [3600, 0]}
    assert i["total"] == {"opened": [3, 0], "closed": [2, 0], "open": [1, 0]}
    assert i["check_items"] == {"sound": [1, 0]}


def test_recordings_and_admission(province):  # type: ignore[no-untyped-def]
    assert province["recordings"]["requested"] == [2, 0]
    assert province["recordings"]["requested_held"] == [1, 0]
    assert province["admission"]["changes"] == {
        "registered": [0, 0], "admitted": [1, 1], "suspended": [1, 0], "reinstated": [1, 0],
        "repaired": [1, 0],
    }
    assert province["admission"]["status_now"]["approved"] == 5


def test_the_district_office_sees_its_district_and_ward(half_year):  # type: ignore[no-untyped-def]
    d = compute(half_year.district_office)
    assert d["scope"]["agency"] == "UBND thành phố Nha Trang" and d["scope"]["with_units"]
    m = d["meetings"]
    assert m["total"]["total"] == [5, 1]  # M1 M2 M4 M6 M7; P1
    assert m["total"]["outcome"]["held"] == [2, 1]
    assert {line["name"] for line in m["by_agency"]} == {
        "UBND thành phố Nha Trang", "UBND phường Xương Huân"}
    lines = {line["name"]: line for line in d["attendance"]["endpoints"]}
    assert set(lines) == {"UBND.Nha Trang", "NT.XuongHuan"}
    assert d["attendance"]["total"]["invited"] == [6, 2]  # M3, hosted above it, counts too
    assert d["nodes"]["load_shown"] is False
    assert [(n["name"], n["sessions"]) for n in d["nodes"]["nodes"]] == [("mcu-1", [2, 1])]
    assert "peak_meetings" not in d["nodes"]["nodes"][0]
    assert d["checks"]["due"] == [2, 1] and d["checks"]["failed"] == [1, 0]
    assert d["incidents"]["kinds"]["check"]["opened"] == [1, 0]
    assert d["incidents"]["kinds"]["session"]["opened"] == [1, 0]  # M2's, no endpoint named
    assert d["admission"]["changes"]["admitted"] == [1, 0]
    assert d["admission"]["changes"]["suspended"] == [0, 0]
    assert d["refusals"]["by_article"][0]["count"] == [1, 0]  # M4; P2 is Cam Ranh's


def test_a_level_narrows_the_province(half_year):  # type: ignore[no-untyped-def]
    scope = ReportScope.for_user(half_year.operator, level="commune")
    d = compute(half_year.operator, scope)
    assert d["meetings"]["total"]["total"] == [3, 0]  # M2 M6 M8
    assert set(d["meetings"]["by_level"]) == {"commune"}
    assert {line["name"] for line in d["attendance"]["endpoints"]} == {"NT.XuongHuan"}


def test_queries_do_not_grow_with_the_data(half_year):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as small:
        compute(half_year.operator)
    from .conftest import meeting

    for n in range(30):  # thirty more meetings, each with a participant
        meeting(half_year, f"Thêm {n}", half_year.commune, half_year.ep_commune, "2025-02-03",
                "09:00", "10:00", "ended", participants=(half_year.ep_district,),
                node=half_year.node)
    with CaptureQueriesContext(connection) as large:
        data = compute(half_year.operator)
    assert data["meetings"]["total"]["total"] == [39, 2]
    assert len(large) == len(small) <= 25


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_node_load_is_the_sweep_booking_uses(half_year, seed):  # type: ignore[no-untyped-def]
    """The report's load, added up per instant by the database, equals `capacity.sweep` over
    the same held windows — so the report never shows a peak booking did not see."""
    import datetime as dt
    import random

    from diemcau.scheduling import capacity
    from diemcau.scheduling.models import Booking

    from .conftest import VN, meeting

    rng = random.Random(seed)
    start = dt.datetime(2025, 3, 3, tzinfo=VN)
    for n in range(40):
        first = start + dt.timedelta(minutes=30 * rng.randrange(0, 96))
        m = meeting(half_year, f"Tải {n}", half_year.district, half_year.ep_district,
                    "2025-03-03", "09:00", "10:00", rng.choice(["ended", "accepted", "revoked"]),
                    node=half_year.node)
        Booking.objects.create(meeting=m, kind="session", node=half_year.node, starts_at=first,
                               ends_at=first + dt.timedelta(minutes=30 * rng.randint(1, 12)),
                               endpoints_count=rng.randint(1, 9), holds=False)
    window = capacity.Window(start + dt.timedelta(hours=rng.randint(0, 12)),
                             start + dt.timedelta(hours=rng.randint(30, 48)))
    rows = Booking.objects.filter(node=half_year.node, endpoint__isnull=True,
                                  meeting__status__in=["ended", "accepted", "live"])
    loads = [capacity.Load(b.meeting_id, capacity.Window(b.starts_at, b.ends_at),
                           b.endpoints_count) for b in rows]
    expected = [(s.at, s.meetings, s.endpoints) for s in capacity.sweep(loads, [window])]
    deltas = {at: change for (node, at), change in
              figures.load_deltas(window.starts_at, window.ends_at).items()
              if node == half_year.node.pk}
    assert [(s.at, s.meetings, s.endpoints) for s in figures.steps(deltas)] == expected


def test_a_province_wide_readers_meetings_are_those_it_may_see(half_year):  # type: ignore[no-untyped-def]
    """`Basis.visible_meetings` skips `meetings_visible_to`'s subqueries for province-wide
    readers; it must give the same meetings."""
    from diemcau.core.roles import Role
    from diemcau.scheduling.permissions import meetings_visible_to
    from diemcau.testing.factories import UserFactory

    auditor = UserFactory(role=Role.AUDITOR, agency=half_year.department)
    for user in (half_year.operator, auditor, half_year.district_office):
        basis = Basis(H1, ReportScope.for_user(user), user=user)
        expected = meetings_visible_to(user).exclude(status="draft")
        assert set(basis.visible_meetings().values_list("pk", flat=True)) == set(
            expected.values_list("pk", flat=True))


def test_recordings_handed_over_against_their_deadline(half_year):  # type: ignore[no-untyped-def]
    from diemcau.archive.models import Recording
    from diemcau.reports.tests.conftest import at

    w = half_year
    # M1 (ended 10/03 11:00) asked for its recording: due two working days later, 12/03.
    rec = Recording.objects.create(meeting=w.m1, handover_due_at=at("2025-03-12", "11:00"))
    assert compute(w.operator)["recordings"]["handover_overdue"] == [1, 0]
    assert compute(w.operator)["recordings"]["handed_in_time"] == [0, 0]

    Recording.objects.filter(pk=rec.pk).update(handed_over_at=at("2025-03-12", "10:00"))
    r = compute(w.operator)["recordings"]
    assert (r["handed_in_time"], r["handed_late"], r["handover_overdue"]) == ([1, 0], [0, 0],
                                                                              [0, 0])
    Recording.objects.filter(pk=rec.pk).update(handed_over_at=at("2025-03-13", "08:00"))
    r = compute(w.operator)["recordings"]
    assert (r["handed_in_time"], r["handed_late"]) == ([0, 0], [1, 0])
