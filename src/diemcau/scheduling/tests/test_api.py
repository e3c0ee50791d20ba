"""The scheduling REST API: scoping and the secret code, rules with their articles, decisions
with revocation, checks and incidents, the operator's queue and the calendar."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diemcau.core import calendar
from diemcau.core.api_auth import generate_token
from diemcau.core.audit import verify_chain
from diemcau.core.models import ApiToken, AuditEvent, User
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind
from diemcau.directory.models import Agency, Endpoint
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling import planning
from diemcau.scheduling.choices import MeetingStatus, Urgency
from diemcau.scheduling.models import Booking, Meeting, MeetingSeries
from diemcau.scheduling.services import lifecycle, registration
from diemcau.testing.factories import (
    AgencyFactory,
    ApprovedEndpointFactory,
    McuNodeFactory,
    UserFactory,
)

V1 = "/api/v1"


@dataclass
class Caller:
    """A user and their API token; requests go through Django's test client."""

    user: User
    token: str
    client: Client

    def _send(self, method: str, url: str, body: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self.token}", **headers}}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(V1 + url, **kwargs)

    def get(self, url: str, **headers: str) -> Any:
        return self._send("get", url, **headers)

    def post(self, url: str, body: Any = None, **headers: str) -> Any:
        return self._send("post", url, body if body is not None else {}, **headers)


def query(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}"


def caller(role: str, agency: Agency | None) -> Caller:
    user = UserFactory(role=role, agency=agency)
    raw, prefix, key_hash = generate_token()
    ApiToken.objects.create(user=user, name="test", prefix=prefix, key_hash=key_hash)
    return Caller(user, raw, Client())


def working_day_at(days_ahead: int, hour: int) -> dt.datetime:
    """A local time `days_ahead` working days from now (safe for every lead time)."""
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = work.add_working_days(timezone.now(), days_ahead)
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(kh_tree: SimpleNamespace, use_rulebook: Any) -> SimpleNamespace:
    """Khánh Hòa: UBND tỉnh, Sở TTTT (the operator), Nha Trang with Xương Huân, Cam Ranh."""
    use_rulebook("khanh-hoa-2023")
    w = kh_tree
    w.operator = caller(Role.OPERATOR, w.department)
    w.district_office = caller(Role.OFFICE, w.district)
    w.other_office = caller(Role.OFFICE, w.other_district)
    w.province_office = caller(Role.OFFICE, w.province)
    w.commune_tech = caller(Role.TECHNICIAN, w.commune)
    w.auditor = caller(Role.AUDITOR, w.department)
    w.ep_province = ApprovedEndpointFactory(agency=w.province, name="UBND.Khanh Hoa")
    w.ep_district = ApprovedEndpointFactory(agency=w.district, name="UBND.Nha Trang")
    w.ep_commune = ApprovedEndpointFactory(agency=w.commune, name="NT.XuongHuan")
    w.ep_other = ApprovedEndpointFactory(agency=w.other_district, name="UBND.Cam Ranh")
    w.node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    return w


def meeting_body(
    host: Agency,
    endpoint: Endpoint,
    participants: list[Endpoint],
    start: dt.datetime,
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Giao ban {host.name}",
        "host_agency": host.pk,
        "host_endpoint": endpoint.pk,
        "participants": [e.pk for e in participants],
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "place": "Phòng họp trực tuyến tầng 3",
        "contact_name": "Nguyễn Văn A",
        "contact_phone": "0912345678",
        "urgency": "normal",
        "classification": "normal",
        "meeting_type": "briefing",
        "recording_requested": True,
        "support_notes": "Ghi hình phiên họp",
    }
    body.update(overrides)
    return body


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.content
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def meeting_input(host: Agency, endpoint: Endpoint, start: dt.datetime) -> Any:
    return registration.MeetingInput(
        title=f"Họp {host.name}",
        host_agency=host,
        host_endpoint=endpoint,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        place="Phòng họp",
        contact_name="Trần Văn B",
        contact_phone="0905111222",
    )


# ---------------------------------------------------------------- registration and the code


@pytest.mark.django_db
def test_create_submit_accept_and_who_sees_the_code(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    body = meeting_body(world.district, world.ep_district, [world.ep_commune], start, submit=False)
    draft = created(world.district_office.post("/meetings", body))
    assert draft["status"] == "draft" and draft["registered_at"] is None
    assert draft.get("code") is None  # nothing issued yet
    assert [p["name"] for p in draft["participants"]] == ["NT.XuongHuan"]
    assert draft["recording_requested"] is True and draft["meeting_type"] == "briefing"
    meeting_id = draft["id"]
    # A draft is the registering office's unfinished work: the invited ward does not see it.
    assert world.commune_tech.get(f"/meetings/{meeting_id}").status_code == 404
    assert world.commune_tech.get("/meetings").json()["count"] == 0
    assert world.operator.get(f"/meetings/{meeting_id}").status_code == 200

    submitted = world.district_office.post(f"/meetings/{meeting_id}/submit")
    assert submitted.status_code == 200, submitted.content
    data = submitted.json()
    assert data["status"] == "submitted" and data["reply_due_at"] and data["registered_at"]
    assert world.district_office.post(f"/meetings/{meeting_id}/submit").status_code == 409

    # Only the operator decides.
    assert world.district_office.post(f"/meetings/{meeting_id}/accept").status_code == 403
    accepted = world.operator.post(f"/meetings/{meeting_id}/accept", {"confirm_revocations": []})
    assert accepted.status_code == 200, accepted.content
    assert "no-store" in accepted["Cache-Control"]
    shown = accepted.json()
    code = shown["code"]
    assert shown["status"] == "accepted" and code and len(code) == 10
    assert shown["node"] == {"id": world.node.pk, "name": "mcu-1"}
    assert shown["checks"]["total"] == 2 and shown["checks"]["scheduled"] == 2
    assert shown["checks"]["next_due_at"] is not None

    # The host's office and the invited ward see the code; the detail is not cached.
    for member in (world.district_office, world.commune_tech):
        seen = member.get(f"/meetings/{meeting_id}")
        assert seen.status_code == 200 and seen.json()["code"] == code
        assert "no-store" in seen["Cache-Control"]
    # Another district's office: not found at all, and nothing in its list.
    assert world.other_office.get(f"/meetings/{meeting_id}").status_code == 404
    assert world.other_office.get("/meetings").json()["count"] == 0
    # An auditor reads the meeting, not its secret.
    audited = world.auditor.get(f"/meetings/{meeting_id}")
    assert audited.status_code == 200 and "code" not in audited.json()
    # Never in lists, whoever asks.
    for member in (world.district_office, world.operator, world.commune_tech):
        listed = member.get("/meetings")
        assert listed.json()["count"] == 1
        assert "code" not in listed.json()["items"][0] and code not in listed.content.decode()

    actions = list(
        AuditEvent.objects.filter(object_type="scheduling.meeting", object_id=str(meeting_id))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["meeting.draft", "meeting.submit", "meeting.accept"]
    assert verify_chain().ok


@pytest.mark.django_db
def test_list_filters(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    office = world.district_office
    created(office.post("/meetings", meeting_body(world.district, world.ep_district, [], start)))
    later = start + dt.timedelta(days=7)
    created(
        office.post(
            "/meetings",
            meeting_body(
                world.district,
                world.ep_district,
                [],
                later,
                title="Họp chuyên đề",
                submit=False,
            ),
        )
    )
    assert office.get("/meetings?status=draft").json()["count"] == 1
    assert office.get("/meetings?q=chuyên đề").json()["items"][0]["title"] == "Họp chuyên đề"
    assert office.get(f"/meetings?host_agency={world.district.pk}").json()["count"] == 2
    window = {"start": start.isoformat(), "end": (start + dt.timedelta(days=1)).isoformat()}
    assert office.get(query("/meetings", window)).json()["count"] == 1
    page = office.get("/meetings?limit=1")
    assert page.json()["count"] == 2 and len(page.json()["items"]) == 1
    assert [i["loc"] for i in detail(office.get("/meetings?status=lost"))] == [["query", "status"]]


@pytest.mark.django_db
def test_lead_time_refusal_cites_the_article(world: SimpleNamespace) -> None:
    start = timezone.localtime(timezone.now() + dt.timedelta(hours=30))
    body = meeting_body(world.district, world.ep_district, [], start)
    [item] = detail(world.district_office.post("/meetings", body))
    assert item["loc"] == ["body", "starts_at"]
    assert item["type"] == "rule_violation" and item["code"] == "lead_time_too_short"
    assert "Điều 13.2a" in item["article"] and item["msg"].startswith("Điều 13.2a")
    assert not Meeting.objects.exists()

    # What the form asks beforehand: the earliest start the same rule allows.
    asked = {"urgency": "normal", "host_agency": str(world.district.pk)}
    rules = world.district_office.get(query("/meetings/rules", asked))
    assert rules.status_code == 200, rules.content
    data = rules.json()
    assert data["article"].startswith("Điều 13.2a") and data["exempt"] is False
    assert dt.datetime.fromisoformat(data["earliest_start"]) > start
    assert data["registrar"] == {"allowed": True, "message": None, "article": None}
    assert data["reply_article"].startswith("Điều 13.2b")
    emergency = world.district_office.get("/meetings/rules?urgency=emergency").json()
    assert emergency["exempt"] is True and emergency["registrar"] is None
    # KH Đ13.2a: where the regulation has registrations sent; an emergency counts at once
    # and its reply is due at once (Đ12.3).
    assert data["channels"] == [{"kind": "official_email", "label": data["channels"][0]["label"],
                                 "address": "hoptructuyen@khanhhoa.gov.vn"}]
    assert data["channels_article"] == "Điều 13.2a Quy chế KH"
    assert emergency["reply_due_at"] == emergency["counted_from"]
    # KH Đ12.2: a ward's meetings are registered by its district's office.
    ward_office = caller(Role.OFFICE, world.commune)
    ward = ward_office.get(f"/meetings/rules?host_agency={world.commune.pk}").json()
    assert ward["registrar"]["allowed"] is False and ward["registrar"]["article"].startswith("Điều")
    assert [
        i["loc"] for i in detail(world.district_office.get("/meetings/rules?host_agency=0"))
    ] == [["query", "host_agency"]]


@pytest.mark.django_db
def test_naive_datetimes_and_unknown_ids_are_422(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    body = meeting_body(world.district, world.ep_district, [], start)
    body["starts_at"] = start.replace(tzinfo=None).isoformat()
    [item] = detail(world.district_office.post("/meetings", body))
    assert item["loc"] == ["body", "starts_at"] and item["type"] == "timezone_aware"

    unknown = meeting_body(world.district, world.ep_other, [world.ep_commune], start)
    unknown["participants"].append(999999)
    found = {tuple(i["loc"]) for i in detail(world.district_office.post("/meetings", unknown))}
    # Cam Ranh's room is not the Nha Trang office's to host with; 999999 does not exist.
    assert found == {("body", "host_endpoint"), ("body", "participants")}
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_weekly_series_answers_its_occurrences(world: SimpleNamespace) -> None:
    start = working_day_at(5, 8)
    until = (start + dt.timedelta(weeks=2)).date().isoformat()
    repeat = {"recurrence": "weekly", "until": until}
    body = meeting_body(world.district, world.ep_district, [], start, repeat=repeat)
    series = created(world.district_office.post("/meetings", body))
    assert series["recurrence"] == "weekly" and len(series["occurrences"]) == 3
    assert {m["status"] for m in series["occurrences"]} == {"submitted"}
    assert all("code" not in m for m in series["occurrences"])

    early = meeting_body(
        world.district,
        world.ep_district,
        [],
        start,
        repeat={"recurrence": "weekly", "until": (start - dt.timedelta(days=1)).date().isoformat()},
    )
    assert [i["loc"] for i in detail(world.district_office.post("/meetings", early))] == [
        ["body", "repeat", "until"]
    ]
    daily = meeting_body(
        world.district, world.ep_district, [], start, repeat={"recurrence": "daily", "until": until}
    )
    assert [i["loc"] for i in detail(world.district_office.post("/meetings", daily))] == [
        ["body", "repeat", "recurrence"]
    ]


# ---------------------------------------------------------------- decisions


def _fill(world: SimpleNamespace, start: dt.datetime, count: int) -> list[Meeting]:
    """`count` accepted district-level meetings overlapping `start`, each with its own room."""
    operator = world.operator.user
    meetings = []
    for n in range(count):
        agency = AgencyFactory(
            parent=world.province,
            kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
            name=f"UBND huyện Thử {n}",
            abbreviation=f"T{n}",
        )
        endpoint = ApprovedEndpointFactory(agency=agency, name=f"UBND.Thu {n}")
        meeting = registration.create_meeting(
            meeting_input(agency, endpoint, start + dt.timedelta(minutes=5 * n)), actor=operator
        )
        meetings.append(lifecycle.accept_meeting(meeting, actor=operator))
    return meetings


@pytest.mark.django_db
def test_revocation_needs_confirmation_then_goes_ahead(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    lower = _fill(world, start, 4)  # 80 % of the node's 5 meetings
    body = meeting_body(world.province, world.ep_province, [], start, title="Họp UBND tỉnh")
    meeting_id = created(world.province_office.post("/meetings", body))["id"]

    [item] = detail(world.operator.post(f"/meetings/{meeting_id}/accept"))
    latest = lower[-1]
    assert item["type"] == "rule_violation" and item["code"] == "revocation_needs_confirmation"
    assert item["article"].startswith("Điều 12.4b") and item["loc"] == ["body"]
    assert [r["id"] for r in item["revocations"]] == [latest.pk]
    assert item["revocations"][0]["title"] == latest.title
    assert item["revocations"][0]["registered_at"]
    assert Meeting.objects.get(pk=meeting_id).status == MeetingStatus.SUBMITTED

    plan = world.operator.get(f"/meetings/{meeting_id}/plan")
    assert plan.status_code == 200, plan.content
    assert plan.json()["node"]["id"] == world.node.pk and plan.json()["possible"] is True
    assert [r["id"] for r in plan.json()["revocations"]] == [latest.pk]
    assert plan.json()["priority_article"].startswith("Điều 12.4b")
    assert world.province_office.get(f"/meetings/{meeting_id}/plan").status_code == 403

    # Confirming something else is not confirming: the same answer.
    wrong = world.operator.post(
        f"/meetings/{meeting_id}/accept", {"confirm_revocations": [lower[0].pk]}
    )
    assert detail(wrong)[0]["code"] == "revocation_needs_confirmation"
    done = world.operator.post(
        f"/meetings/{meeting_id}/accept", {"confirm_revocations": [latest.pk]}
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "accepted" and done.json()["code"]
    latest.refresh_from_db()
    assert latest.status == MeetingStatus.REVOKED and latest.code is None
    assert (
        Meeting.objects.filter(
            pk__in=[m.pk for m in lower[:-1]], status=MeetingStatus.ACCEPTED
        ).count()
        == 3
    )


@pytest.mark.django_db
def test_an_announced_meeting_is_not_refused(world: SimpleNamespace) -> None:
    # KH Đ12.1: the Office of UBND tỉnh announces its meetings for the operator to prepare.
    body = meeting_body(world.province, world.ep_province, [world.ep_district],
                        working_day_at(5, 9))
    meeting = created(world.province_office.post("/meetings", body))
    assert meeting["announced"] is True
    [item] = detail(world.operator.post(f"/meetings/{meeting['id']}/refuse",
                                        {"reason": "Trùng lịch"}))
    assert item["code"] == "announced_meeting_not_refused"
    assert item["article"] == "Điều 12.1 Quy chế KH"
    queue = world.operator.get("/operator/queue").json()["items"]
    assert [i["announced"] for i in queue if i["id"] == meeting["id"]] == [True]


def test_refuse_needs_a_reason_and_cancel_releases(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    body = meeting_body(world.district, world.ep_district, [], start)
    meeting_id = created(world.district_office.post("/meetings", body))["id"]
    url = f"/meetings/{meeting_id}/refuse"
    assert [i["loc"] for i in detail(world.operator.post(url, {"reason": "  "}))] == [
        ["body", "reason"]
    ]
    assert [i["loc"] for i in detail(world.operator.post(url, {}))] == [["body", "reason"]]
    assert world.district_office.post(url, {"reason": "Trùng lịch"}).status_code == 403
    refused = world.operator.post(url, {"reason": "Trùng lịch tỉnh"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert refused.json()["decision_reason"] == "Trùng lịch tỉnh"
    assert world.operator.post(url, {"reason": "Lại"}).status_code == 409
    assert world.other_office.post(url, {"reason": "x"}).status_code == 404

    other = created(
        world.district_office.post(
            "/meetings", meeting_body(world.district, world.ep_district, [], start)
        )
    )["id"]
    assert world.operator.post(f"/meetings/{other}/accept").status_code == 200
    cancel = f"/meetings/{other}/cancel"
    assert [i["loc"] for i in detail(world.district_office.post(cancel, {"reason": ""}))] == [
        ["body", "reason"]
    ]
    cancelled = world.district_office.post(cancel, {"reason": "Lãnh đạo bận"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert not Booking.objects.filter(meeting_id=other, holds=True).exists()
    assert world.district_office.post(cancel, {"reason": "Lại"}).status_code == 409


# ---------------------------------------------------------------- checks and incidents (R15)


@pytest.mark.django_db
def test_failed_check_opens_an_incident_the_operator_sees(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    body = meeting_body(world.district, world.ep_district, [world.ep_commune], start)
    meeting_id = created(world.district_office.post("/meetings", body))["id"]
    assert world.operator.post(f"/meetings/{meeting_id}/accept").status_code == 200

    listed = world.commune_tech.get(f"/meetings/{meeting_id}/checks")
    assert listed.status_code == 200, listed.content
    data = listed.json()
    items = data["items"]
    assert "backup_power" in items and data["article"].startswith("Điều 13.2")
    mine = [c for c in data["checks"] if c["endpoint"]["id"] == world.ep_commune.pk]
    theirs = [c for c in data["checks"] if c["endpoint"]["id"] == world.ep_district.pk]
    assert len(mine) == 1 and mine[0]["status"] == "scheduled"

    results = {item: True for item in items} | {"backup_power": False}
    url = f"/checks/{mine[0]['id']}"
    assert [i["loc"] for i in detail(world.commune_tech.post(url, {"results": results}))] == [
        ["body", "remarks"]
    ]
    assert [
        i["loc"] for i in detail(world.commune_tech.post(url, {"results": {"terminal": True}}))
    ] == [["body", "results"]]
    # The ward's technician records only the ward's room.
    everything = {"results": {item: True for item in items}}
    assert world.commune_tech.post(f"/checks/{theirs[0]['id']}", everything).status_code == 403
    recorded = world.commune_tech.post(url, {"results": results, "remarks": "UPS hỏng"})
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["status"] == "failed"
    assert recorded.json()["results"]["backup_power"] is False
    assert world.other_office.post(url, everything).status_code == 404

    # The ward also reports a problem of its own.
    reported = world.commune_tech.post(
        f"/meetings/{meeting_id}/incidents",
        {"description": "Mất tiếng micro", "endpoint": world.ep_commune.pk},
    )
    incident = created(reported)
    assert incident["endpoint"]["id"] == world.ep_commune.pk and incident["status"] == "open"

    queue = world.operator.get("/incidents").json()
    assert queue["count"] == 2
    failed = next(i for i in queue["items"] if i["technical_check"] == mine[0]["id"])
    # the incident names the item in the caller's language (Vietnamese by default)
    assert "Điện dự phòng" in failed["description"] and failed["meeting"]["id"] == meeting_id
    assert world.other_office.get("/incidents").json()["count"] == 0

    change = f"/incidents/{failed['id']}"
    assert (
        world.commune_tech.post(change, {"status": "closed", "resolution": "x"}).status_code == 403
    )
    assert [i["loc"] for i in detail(world.operator.post(change, {"status": "closed"}))] == [
        ["body", "resolution"]
    ]
    fixing = world.operator.post(change, {"status": "in_progress"})
    assert fixing.status_code == 200 and fixing.json()["status"] == "in_progress"
    closed = world.operator.post(change, {"status": "closed", "resolution": "Thay UPS"})
    assert closed.status_code == 200 and closed.json()["closed_by"]
    assert world.operator.post(change, {"status": "open"}).status_code == 409
    # Open ones first.
    statuses = [i["status"] for i in world.operator.get("/incidents").json()["items"]]
    assert statuses == ["open", "closed"]
    assert world.operator.get("/incidents?status=closed").json()["count"] == 1


# ---------------------------------------------------------------- the operator's queue (R9)


@pytest.mark.django_db
def test_queue_puts_emergencies_first_with_time_left(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    office = world.district_office
    normal = created(
        office.post(
            "/meetings",
            meeting_body(world.district, world.ep_district, [], start, title="Thông thường"),
        )
    )
    late = created(
        office.post(
            "/meetings",
            meeting_body(
                world.district, world.ep_district, [], start + dt.timedelta(days=1), title="Quá hạn"
            ),
        )
    )
    emergency = created(
        office.post(
            "/meetings",
            meeting_body(
                world.district,
                world.ep_district,
                [],
                start + dt.timedelta(days=2),
                title="Bão số 5",
                urgency=Urgency.EMERGENCY,
                emergency_reason="Bão số 5",
            ),
        )
    )
    Meeting.objects.filter(pk=late["id"]).update(
        reply_due_at=timezone.now() - dt.timedelta(minutes=10)
    )
    Meeting.objects.filter(pk=normal["id"]).update(
        reply_due_at=timezone.now() + dt.timedelta(minutes=5)
    )

    assert office.get("/operator/queue").status_code == 403
    response = world.operator.get("/operator/queue")
    assert response.status_code == 200, response.content
    items = {i["id"]: i for i in response.json()["items"]}
    order = [i["id"] for i in response.json()["items"]]
    # Emergencies first; then by reply deadline (the late one before the one still due).
    assert order == [emergency["id"], late["id"], normal["id"]]
    assert items[late["id"]]["seconds_left"] < 0 and items[late["id"]]["breached"] is True
    assert items[late["id"]]["warning"] is False
    assert 0 < items[normal["id"]]["seconds_left"] <= 300
    assert items[normal["id"]]["warning"] is True and items[normal["id"]]["breached"] is False
    # KH Đ12.3, Đ13.2a: an emergency's reply is due at once; the queue counts up from its
    # receipt, and it is not missed before the 03 giờ of Đ13.2b.
    assert items[emergency["id"]]["seconds_left"] <= 0
    assert items[emergency["id"]]["reply_state"] == "now"
    assert items[emergency["id"]]["breached"] is False
    assert not any(item["announced"] for item in items.values())  # no office announced them
    assert items[emergency["id"]]["reply_due_at"]


# ---------------------------------------------------------------- rooms and the calendar


@pytest.mark.django_db
def test_busy_endpoints_hide_titles_of_meetings_out_of_scope(world: SimpleNamespace) -> None:
    start = working_day_at(5, 9)
    theirs = registration.create_meeting(
        registration.MeetingInput(
            **{
                **meeting_input(world.other_district, world.ep_other, start).__dict__,
                "participants": [world.ep_province],
                "title": "Họp Cam Ranh",
            }
        ),
        actor=world.operator.user,
    )
    lifecycle.accept_meeting(theirs, actor=world.operator.user)
    window = {
        "ids": f"{world.ep_district.pk},{world.ep_province.pk}",
        "start": (start - dt.timedelta(hours=1)).isoformat(),
        "end": (start + dt.timedelta(hours=3)).isoformat(),
    }
    office = world.district_office
    response = office.get(query("/endpoints/busy", window))
    assert response.status_code == 200, response.content
    free, busy = response.json()
    assert free["endpoint"]["id"] == world.ep_district.pk and free["held"] == []
    assert busy["endpoint"]["id"] == world.ep_province.pk
    assert [(h["meeting"], h["title"]) for h in busy["held"]] == [(None, None)]
    operator_view = world.operator.get(query("/endpoints/busy", window)).json()
    assert operator_view[1]["held"][0]["title"] == "Họp Cam Ranh"
    bad = office.get(query("/endpoints/busy", {**window, "ids": "1,x"}))
    assert [i["loc"] for i in detail(bad)] == [["query", "ids"]]
    unknown = office.get(query("/endpoints/busy", {**window, "ids": "999999"}))
    assert [i["loc"] for i in detail(unknown)] == [["query", "ids"]]


def _arrange(
    world: SimpleNamespace,
    count: int,
    start: dt.datetime,
    host: Agency,
    endpoint: Endpoint,
    status: str = MeetingStatus.ACCEPTED,
) -> list[Meeting]:
    """Rows for the calendar, made directly (arranging, not the behaviour under test)."""
    return Meeting.objects.bulk_create(
        Meeting(
            title=f"Lịch {host.name} {n}",
            host_agency=host,
            host_endpoint=endpoint,
            starts_at=start + dt.timedelta(hours=n % 40),
            ends_at=start + dt.timedelta(hours=n % 40, minutes=45),
            place="Phòng họp",
            contact_name="Lê Văn C",
            contact_phone="0905111222",
            status=status,
            created_by=world.operator.user,
        )
        for n in range(count)
    )


@pytest.mark.django_db
def test_calendar_is_scoped_and_its_queries_do_not_grow(world: SimpleNamespace) -> None:
    start = timezone.localtime(timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=1)
    week = {"start": start.isoformat(), "end": (start + dt.timedelta(days=7)).isoformat()}
    office = world.district_office

    def fetch() -> Any:
        return office.get(query("/calendar", week))

    own = _arrange(world, 5, start, world.district, world.ep_district)
    _arrange(world, 3, start, world.other_district, world.ep_other)  # not ours
    _arrange(world, 2, start, world.district, world.ep_district, MeetingStatus.REFUSED)
    invited = _arrange(world, 1, start, world.other_district, world.ep_other)[0]
    invited.participants.add(world.ep_district)  # Cam Ranh invites Nha Trang: ours to see
    _arrange(world, 2, start + dt.timedelta(days=20), world.district, world.ep_district)

    assert fetch().status_code == 200  # warm-up: the token's last use is written once
    with CaptureQueriesContext(connection) as few:
        response = fetch()
    items = response.json()
    assert {i["id"] for i in items} == {m.pk for m in [*own, invited]}
    assert set(items[0]) == {"id", "title", "starts_at", "ends_at", "status", "host_agency"}
    assert items[0]["host_agency"] == world.district.name
    assert all(i["status"] == "accepted" for i in items)

    _arrange(world, 45, start, world.district, world.ep_district)
    with CaptureQueriesContext(connection) as many:
        response = fetch()
    assert len(response.json()) == 51
    assert len(many.captured_queries) == len(few.captured_queries)
    # Cam Ranh sees its own three and the one it hosts with Nha Trang invited.
    assert len(world.other_office.get(query("/calendar", week)).json()) == 4

    too_long = {**week, "end": (start + dt.timedelta(days=63)).isoformat()}
    assert [i["loc"] for i in detail(office.get(query("/calendar", too_long)))] == [
        ["query", "end"]
    ]
    backwards = {"start": week["end"], "end": week["start"]}
    assert [i["loc"] for i in detail(office.get(query("/calendar", backwards)))] == [
        ["query", "end"]
    ]
    naive = {**week, "start": start.replace(tzinfo=None).isoformat()}
    assert [i["loc"] for i in detail(office.get(query("/calendar", naive)))] == [["query", "start"]]


@pytest.mark.django_db
def test_calendar_rows_are_written_as_its_schema_documents_them(world: SimpleNamespace) -> None:
    """The week is written from the rows without a schema validation per meeting: its body is
    byte for byte what CalendarItemOut gives for the same meetings, through the API's
    renderer."""
    from diemcau.api import api
    from diemcau.scheduling.schemas import CalendarItemOut

    start = timezone.localtime(timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=2)
    week = {"start": start.isoformat(), "end": (start + dt.timedelta(days=7)).isoformat()}
    meetings = _arrange(world, 4, start, world.district, world.ep_district)
    _arrange(world, 2, start, world.district, world.ep_district, MeetingStatus.SUBMITTED)
    Meeting.objects.filter(pk=meetings[0].pk).update(
        title='Họp "khẩn" <1>', starts_at=start + dt.timedelta(microseconds=123456))
    response = world.district_office.get(query("/calendar", week))
    assert response.status_code == 200
    shown = (Meeting.objects.filter(pk__in=[i["id"] for i in response.json()])
             .select_related("host_agency").order_by("starts_at", "pk"))
    assert len(shown) == 6
    documented = [CalendarItemOut.model_validate(m).model_dump() for m in shown]
    expected = api.create_response(response.wsgi_request, documented, status=200)
    assert response.content == expected.content
    assert response["Content-Type"] == expected["Content-Type"]


@pytest.mark.django_db
def test_calendar_range_edges_and_the_scope_through_invited_endpoints(
    world: SimpleNamespace,
) -> None:
    """The start is bounded below by the longest a meeting may last: a meeting of that length
    that began just before the range still overlaps it and is shown; one that ended at the
    range's start, or starts at its end, is not. A district office sees a meeting of another
    district where only an endpoint of one of its communes is invited."""
    start = timezone.localtime(timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=3)
    end = start + dt.timedelta(days=7)
    week = {"start": start.isoformat(), "end": end.isoformat()}
    longest = planning.MAX_MEETING_LENGTH
    tick = dt.timedelta(minutes=1)

    def arrange(starts: dt.datetime, ends: dt.datetime) -> Meeting:
        meeting = _arrange(world, 1, starts, world.other_district, world.ep_other)[0]
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts, ends_at=ends)
        return meeting

    reaching_in = arrange(start - longest + tick, start + tick)
    ended_at_start = arrange(start - longest, start)
    starts_at_end = arrange(end, end + dt.timedelta(hours=1))
    for meeting in (reaching_in, ended_at_start, starts_at_end):
        meeting.participants.add(world.ep_commune)  # Xương Huân, a ward of Nha Trang
    not_invited = arrange(start + dt.timedelta(hours=9), start + dt.timedelta(hours=10))

    ids = {i["id"] for i in world.district_office.get(query("/calendar", week)).json()}
    assert ids == {reaching_in.pk}
    everything = {i["id"] for i in world.operator.get(query("/calendar", week)).json()}
    assert everything == {reaching_in.pk, not_invited.pk}


# ---------------------------------------------------------------- docs


@pytest.mark.django_db
def test_openapi_lists_the_scheduling_paths(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/meetings": {"get", "post"},
        "/api/v1/meetings/rules": {"get"},
        "/api/v1/meetings/{meeting_id}": {"get"},
        "/api/v1/meetings/{meeting_id}/submit": {"post"},
        "/api/v1/meetings/{meeting_id}/cancel": {"post"},
        "/api/v1/meetings/{meeting_id}/accept": {"post"},
        "/api/v1/meetings/{meeting_id}/refuse": {"post"},
        "/api/v1/meetings/{meeting_id}/plan": {"get"},
        "/api/v1/meetings/{meeting_id}/checks": {"get"},
        "/api/v1/meetings/{meeting_id}/incidents": {"post"},
        "/api/v1/operator/queue": {"get"},
        "/api/v1/checks/{check_id}": {"post"},
        "/api/v1/incidents": {"get"},
        "/api/v1/incidents/{incident_id}": {"post"},
        "/api/v1/endpoints/busy": {"get"},
        "/api/v1/calendar": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) == methods, path
    # The 422 of accept documents the revocations to confirm; the code is an optional field.
    refusal = paths["/api/v1/meetings/{meeting_id}/accept"]["post"]["responses"]["422"]
    assert refusal["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AcceptValidationErrorOut"
    )
    components = schema["components"]["schemas"]
    assert "revocations" in components["AcceptErrorItem"]["properties"]
    assert "code" not in components["MeetingDetailOut"]["required"]
    assert "code" not in components["MeetingOut"]["properties"]
    # The directory's paths are still there.
    assert "/api/v1/endpoints/{endpoint_id}" in paths


# ---------------------------------------------------------------- dates outside the window


@pytest.mark.django_db
def test_a_series_in_year_9999_is_refused_at_once_and_writes_still_work(world: SimpleNamespace):
    start = timezone.make_aware(dt.datetime(9999, 1, 31, 9, 0))
    body = meeting_body(world.district, world.ep_district, [], start,
                        repeat={"recurrence": "monthly", "until": "9999-12-31"})
    refused = world.district_office.post("/meetings", body)
    assert 400 <= refused.status_code < 500, refused.content
    text = refused.content.decode()
    assert "01/01/2020" in text or "2020" in text  # the window is named
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()
    # The database is not left locked: the next registration goes through.
    ok = meeting_body(world.district, world.ep_district, [], working_day_at(5, 9))
    created(world.district_office.post("/meetings", ok))


@pytest.mark.django_db
@pytest.mark.parametrize("year", [1, 1999, 9999])
def test_a_meeting_outside_the_window_is_refused_with_the_field(world: SimpleNamespace, year):
    start = timezone.make_aware(dt.datetime(year, 6, 1, 9, 0))
    body = meeting_body(world.district, world.ep_district, [], start)
    refused = world.district_office.post("/meetings", body)
    assert 400 <= refused.status_code < 500, refused.content
    assert "starts_at" in refused.content.decode()
