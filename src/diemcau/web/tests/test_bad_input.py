"""Every bad input gets a 4xx with a message, never a 500 (R22; ĐN Đ8, KH Đ7), through the real
URLs: integers beyond what the database holds, dates near year 1 or 9999, a join link's time
without a zone, a NUL character, a body too large or nested too deeply, a non-integer id in an
API path, and the API's JSON errors in one shape wherever they come from."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from diemcau.core.api_inputs import DB_INTEGER_MAX
from diemcau.core.models import ApiToken
from diemcau.core.roles import Role
from diemcau.directory.models import Contact
from diemcau.media.models import JoinLink
from diemcau.media.tests.live_fixtures import live_meeting
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.tests.test_api import (
    V1,
    caller,
    meeting_body,
    query,
    working_day_at,
)
from diemcau.testing.factories import ContactFactory, UserFactory

TOO_BIG = DB_INTEGER_MAX + 1  # 2^63


@pytest.fixture
def world(kh_world: SimpleNamespace) -> SimpleNamespace:
    w = kh_world
    w.op = caller(Role.OPERATOR, w.department)
    w.office = caller(Role.OFFICE, w.district)
    w.tech = caller(Role.TECHNICIAN, w.commune)
    return w


def problems(response: Any, status: int = 422) -> list[dict[str, Any]]:
    """The items of a JSON error in the API's shape, after checking status and type."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert item["msg"] and item["loc"]
    return detail


def message(response: Any, status: int) -> str:
    """The one message of a JSON error that is not about a field."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


def locations(response: Any) -> list[list[Any]]:
    return [item["loc"] for item in problems(response)]


# ---------------------------------------------------------------- the OpenAPI document


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, *Role.values])
def test_the_openapi_document_is_served_under_v1_for_every_caller(kh_tree, role):
    """Role × action for the new address: anyone may read the document, as at /api/openapi.json
    (it describes operations, not data)."""
    client = Client()
    if role is not None:
        client.force_login(UserFactory(role=role, agency=kh_tree.department))
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    document = answer.json()
    assert "/api/v1/meetings" in document["paths"]
    assert document == client.get("/api/openapi.json").json()
    offset = next(p for p in document["paths"]["/api/v1/meetings"]["get"]["parameters"]
                  if p["name"] == "offset")
    assert offset["schema"]["maximum"] == DB_INTEGER_MAX


# ---------------------------------------------------------------- integers of 2^63 or more


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/agencies?offset={n}", "offset"),
        ("/endpoints?limit={n}", "limit"),
        ("/meetings?offset={n}&limit=5", "offset"),
        ("/incidents?offset={n}", "offset"),
        ("/operator/queue?offset={n}", "offset"),
        ("/agencies?parent={n}", "parent"),
        ("/endpoints?agency={n}", "agency"),
        ("/meetings?host_agency={n}", "host_agency"),
        ("/meetings/rules?host_agency={n}", "host_agency"),
        ("/incidents?meeting={n}", "meeting"),
        ("/agencies?parent=-{n}", "parent"),
    ],
)
def test_query_integers_beyond_the_database_are_refused_on_their_field(world, url, field):
    answer = world.op.get(url.format(n=TOO_BIG))
    assert locations(answer) == [["query", field]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/agencies/{n}", "agency_id"),
        ("/endpoints/{n}/contacts", "endpoint_id"),
        ("/meetings/{n}", "meeting_id"),
        ("/meetings/{n}/attendance", "meeting_id"),
    ],
)
def test_path_ids_beyond_the_database_are_refused_on_their_field(world, url, field):
    assert locations(world.op.get(url.format(n=TOO_BIG))) == [["path", field]]
    # The largest id the database holds is merely not found.
    assert message(world.op.get(url.format(n=DB_INTEGER_MAX)), 404)


@pytest.mark.django_db
def test_the_largest_offset_is_an_empty_page(world):
    answer = world.op.get(f"/agencies?offset={DB_INTEGER_MAX}&limit=500")
    assert answer.status_code == 200, answer.content
    assert answer.json()["items"] == [] and answer.json()["count"] > 0


@pytest.mark.django_db
def test_body_ids_and_id_lists_beyond_the_database_are_refused_on_their_field(world):
    start = working_day_at(6, 9)
    body = meeting_body(world.district, world.ep_district, [world.ep_commune], start)
    answer = world.office.post("/meetings", {**body, "host_agency": TOO_BIG,
                                             "participants": [world.ep_commune.pk, TOO_BIG]})
    assert sorted(locations(answer)) == [["body", "host_agency"], ["body", "participants", 1]]
    assert not Meeting.objects.exists()
    endpoint = {"agency": TOO_BIG, "name": "X", "terminal_kind": "vcs", "network": "tslcd",
                "bandwidth_mbps": "10"}
    assert locations(world.op.post("/endpoints", endpoint)) == [["body", "agency"]]
    meeting = live_meeting(None, world.district, [world.commune]).meeting
    assert locations(world.op.post(f"/meetings/{meeting.pk}/accept",
                                   {"confirm_revocations": [TOO_BIG]})) == [
        ["body", "confirm_revocations", 0]
    ]
    assert locations(world.op.post(f"/meetings/{meeting.pk}/incidents",
                                   {"description": "Mất tiếng", "endpoint": TOO_BIG})) == [
        ["body", "endpoint"]
    ]
    assert locations(world.op.post(f"/meetings/{meeting.pk}/join-links",
                                   {"endpoint": TOO_BIG})) == [["body", "endpoint"]]


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [f"{TOO_BIG}", f"1,{TOO_BIG}", "0", "-1", "1,x", "9" * 40, ","])
def test_an_id_list_beyond_the_database_is_refused_on_its_field(world, ids):
    start = timezone.now()
    params = {"ids": ids, "start": start.isoformat(),
              "end": (start + dt.timedelta(days=1)).isoformat()}
    assert locations(world.office.get(query("/endpoints/busy", params))) == [["query", "ids"]]


# ---------------------------------------------------------------- dates near year 1 or 9999


EXTREME_INSTANTS = [
    "0001-01-01T00:00:00+14:00",  # before the first instant Python can hold in UTC
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-12:00",  # after the last
    "9999-12-31T23:59:59Z",
    "2019-12-31T12:00:00+07:00",  # before the system's first year
]


@pytest.mark.django_db
@pytest.mark.parametrize("instant", EXTREME_INSTANTS)
def test_query_instants_outside_the_window_are_refused_on_their_field(world, instant):
    ok = timezone.now().isoformat()
    assert locations(world.office.get(query("/meetings", {"start": instant}))) == [
        ["query", "start"]
    ]
    assert locations(world.office.get(query("/meetings", {"end": instant}))) == [
        ["query", "end"]
    ]
    answer = world.office.get(query("/calendar", {"start": instant, "end": ok}))
    assert ["query", "start"] in locations(answer)
    answer = world.office.get(
        query("/endpoints/busy", {"ids": str(world.ep_district.pk), "start": ok, "end": instant})
    )
    assert ["query", "end"] in locations(answer)
    item = problems(world.office.get(query("/meetings", {"start": instant})))[0]
    assert "2020" in item["msg"]  # the message gives the window


@pytest.mark.django_db
@pytest.mark.parametrize("instant", EXTREME_INSTANTS[:4])
def test_body_instants_near_year_1_or_9999_are_refused_on_their_field(world, instant):
    start = working_day_at(6, 9)
    body = meeting_body(world.district, world.ep_district, [], start, starts_at=instant)
    answer = world.office.post("/meetings", body)
    assert ["body", "starts_at"] in locations(answer)
    body = meeting_body(world.district, world.ep_district, [], start, ends_at=instant)
    assert ["body", "ends_at"] in locations(world.office.post("/meetings", body))
    assert not Meeting.objects.exists()


@pytest.fixture
def signed_in(world: SimpleNamespace) -> Client:
    client = Client()
    client.force_login(world.operator)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "2019-06-03"])
def test_the_public_schedule_refuses_a_week_outside_the_window(world, week):
    answer = Client().get(f"/schedule/?week={week}")
    assert answer.status_code == 400
    assert "2020" in answer.content.decode()  # says which dates it accepts
    assert Client().get("/schedule/?week=2026-06-01").status_code in (200, 400)
    assert Client().get(f"/schedule/?week={timezone.localdate().isoformat()}").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/calendar/?date=9999-12-31",
        "/calendar/?date=0001-01-01",
        "/calendar/events.json?start=0001-01-01&end=0001-01-05",
        "/calendar/events.json?start=9999-12-30&end=9999-12-31",
        "/calendar/events.json?start=0001-01-01T00:00:00%2B14:00&end=2026-01-05",
        "/calendar/load/?day=9999-12-31",
        "/calendar/load/?day=9999-12-31&span=week",
    ],
)
def test_the_calendar_refuses_dates_outside_the_window_with_a_message(signed_in, url):
    answer = signed_in.get(url)
    assert answer.status_code == 400
    assert "2020" in answer.content.decode()


@pytest.mark.django_db
def test_the_calendar_load_json_refuses_dates_outside_the_window(signed_in, world):
    answer = signed_in.get(f"/calendar/load.json?node={world.node.pk}"
                           "&start=9999-12-30&end=9999-12-31")
    assert answer.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_meeting_list_says_a_filter_date_is_outside_the_window(signed_in, day):
    answer = signed_in.get(f"/meetings/?date_from={day}&date_to={day}")
    assert answer.status_code == 200 and "2020" in answer.content.decode()


@pytest.mark.django_db
def test_the_registration_form_refuses_ids_and_dates_beyond_their_bounds(world):
    office = Client()
    office.force_login(world.district_office)
    form = {
        "title": "Giao ban", "host_agency": world.district.pk,
        "host_endpoint": world.ep_district.pk, "participants": [str(TOO_BIG)],
        "starts_at": "2030-01-02T09:00", "ends_at": "2030-01-02T11:00", "place": "Phòng họp",
        "contact_name": "Nguyễn Văn A", "contact_phone": "0912345678", "urgency": "normal",
        "classification": "normal", "meeting_type": "working",
    }
    answer = office.post("/meetings/new/", form)
    assert answer.status_code == 200 and str(TOO_BIG) in answer.content.decode()
    for when in ("0001-01-01T00:00", "9999-12-31T23:00"):
        dated = {**form, "participants": [], "starts_at": when, "ends_at": when}
        answer = office.post("/meetings/new/", dated)
        assert answer.status_code == 200 and "2020" in answer.content.decode()
    assert not Meeting.objects.exists()
    # The panel of rules beside the form leaves out what it cannot place.
    panel = office.get("/meetings/rules/?starts_at=0001-01-01T00:00&urgency=emergency"
                       f"&participants={TOO_BIG}&participants=²&host_endpoint={TOO_BIG}")
    assert panel.status_code == 200


# ---------------------------------------------------------------- join links


@pytest.mark.django_db
def test_a_join_link_valid_until_without_a_zone_is_read_in_the_sites_zone(world):
    live = live_meeting(None, world.district, [world.commune])
    url = f"/meetings/{live.meeting.pk}/join-links"
    endpoint = live.participants[0].pk
    local = timezone.localtime() + dt.timedelta(minutes=30)
    naive = local.replace(tzinfo=None, microsecond=0)
    answer = world.op.post(url, {"endpoint": endpoint, "valid_until": naive.isoformat()})
    assert answer.status_code == 201, answer.content
    expires = dt.datetime.fromisoformat(answer.json()["expires_at"])
    assert expires == local.replace(microsecond=0)
    for far in ("9999-12-31T23:59:59", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00",
                "0001-01-01T00:00:00+14:00"):
        refused = world.op.post(url, {"endpoint": endpoint, "valid_until": far})
        assert locations(refused) == [["body", "valid_until"]], far
    # Null is documented, and means "until the meeting's end and its grace".
    assert world.op.post(url, {"endpoint": endpoint, "valid_until": None}).status_code == 201
    assert JoinLink.objects.count() == 2


# ---------------------------------------------------------------- NUL characters


@pytest.mark.django_db
def test_the_api_refuses_a_nul_character_on_its_field(world):
    start = working_day_at(6, 9)
    body = meeting_body(world.district, world.ep_district, [], start, title="Giao\x00ban")
    assert locations(world.office.post("/meetings", body)) == [["body", "title"]]
    contact = {"role": "technician", "full_name": "Lê\x00Văn", "phone": "0905111222"}
    answer = world.op.post(f"/endpoints/{world.ep_commune.pk}/contacts", contact)
    assert locations(answer) == [["body", "full_name"]]
    nested = {"results": {"camera\x00": True}, "remarks": ""}
    assert locations(world.op.post("/checks/1", nested)) == [["body", "results", "camera"]]
    assert locations(world.op.get("/agencies?q=a%00b")) == [["query", "q"]]
    assert locations(world.op.get("/meetings?q%00=x")) == [["query", "q"]]
    assert not Meeting.objects.exists() and not Contact.objects.exists()
    assert problems(world.op.get("/agencies?q=a%00b"))[0]["type"] == "null_character"


@pytest.mark.django_db
def test_pages_refuse_a_nul_character_with_400_and_a_message(world, signed_in):
    for url in ("/agencies/?q=a%00b", "/endpoints/?q=%00", "/schedule/?week=%00"):
        answer = signed_in.get(url)
        assert answer.status_code == 400, url
        assert "NUL" in answer.content.decode()
    answer = signed_in.post("/tokens/", {"name": "tích hợp\x00"})
    assert answer.status_code == 400 and "NUL" in answer.content.decode()
    assert not ApiToken.objects.filter(user=world.operator).exists()
    # A name without it is still taken.
    assert signed_in.post("/tokens/", {"name": "tích hợp"}).status_code == 200
    assert ApiToken.objects.filter(user=world.operator).count() == 1


# ---------------------------------------------------------------- text longer than its column


@pytest.mark.django_db
def test_a_contact_s_end_reason_is_no_longer_than_its_column(world, signed_in):
    """PostgreSQL refused 201 characters in the 200-character column with a server error."""
    contact = ContactFactory(endpoint=world.ep_commune)
    long_reason = "x" * 201
    answer = world.op.post(f"/contacts/{contact.pk}/end", {"reason": long_reason})
    assert locations(answer) == [["body", "reason"]]
    page = signed_in.post(f"/contacts/{contact.pk}/end/", {"reason": long_reason})
    assert page.status_code == 200 and "200" in page.content.decode()
    contact.refresh_from_db()
    assert contact.active_until is None
    assert world.op.post(f"/contacts/{contact.pk}/end", {"reason": "x" * 200}).status_code == 200


# ---------------------------------------------------------------- bodies too large or too deep


@pytest.mark.django_db
def test_a_body_over_the_limit_is_413_with_a_message(world):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    start = working_day_at(6, 9)
    body = meeting_body(world.district, world.ep_district, [], start)
    body["support_notes"] = "x" * size
    answer = world.office.post("/meetings", json.dumps(body))
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in message(answer, 413)
    assert not Meeting.objects.exists()
    # Also for an operation that reads no body.
    assert message(world.op.post(f"/endpoints/{world.ep_commune.pk}/approve", "x" * size), 413)


@pytest.mark.django_db
def test_a_page_form_over_the_limit_is_400_with_a_message(signed_in, world):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    answer = signed_in.post("/tokens/", {"name": "x" * size})
    assert answer.status_code == 400
    assert "larger" in answer.content.decode() or "lớn" in answer.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [40, 5000, 200_000])
def test_json_nested_too_deeply_is_400(world, depth):
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    answer = world.office.post("/meetings", body)
    assert "32" in message(answer, 400)


@pytest.mark.django_db
def test_json_nested_within_the_limit_is_an_ordinary_field_error(world):
    body = '{"title": ' + "[" * 20 + "]" * 20 + "}"
    assert ["body", "title"] in locations(world.office.post("/meetings", body))


# ---------------------------------------------------------------- JSON errors everywhere


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/meetings/abc", 404),
        ("get", "/api/v1/agencies/null%2Cnull", 404),
        ("post", "/api/v1/meetings/1.5/accept", 404),
        ("get", "/api/v1/endpoints/-1", 404),
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/", 404),
        ("get", "/api/v2/meetings", 404),
        ("delete", "/api/v1/meetings", 405),
        ("put", "/api/v1/endpoints/1", 405),
    ],
)
def test_django_s_own_answers_under_the_api_are_json_in_the_same_shape(world, method, url,
                                                                       status):
    headers = {"Authorization": f"Bearer {world.op.token}", "Accept-Language": "en"}
    answer = getattr(Client(), method)(url, headers=headers)
    detail = message(answer, status)
    assert "<" not in detail
    if status == 405:
        assert answer["Allow"] and answer.json()["detail"].startswith("Method")


@pytest.mark.django_db
def test_a_failure_inside_an_operation_is_a_json_500(world, monkeypatch):
    from diemcau.scheduling import selectors

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "operator_queue", broken)
    client = Client(raise_request_exception=False)
    answer = client.get(f"{V1}/operator/queue",
                        headers={"Authorization": f"Bearer {world.op.token}"})
    detail = message(answer, 500)
    assert "database went away" not in detail  # nothing internal is shown


@pytest.mark.django_db
def test_a_malformed_token_is_401_not_a_database_error(world):
    for token in ("dc_\x00_x", "dc_zz\x00zz_secret", "dc_" + "a" * 5000 + "_x"):
        answer = Client().get(f"{V1}/meetings", headers={"Authorization": f"Bearer {token}"})
        assert message(answer, 401)


# ---------------------------------------------------------------- nullable inputs


@pytest.mark.django_db
def test_inputs_the_schema_documents_as_nullable_are_accepted(world):
    document = Client().get("/api/v1/openapi.json").json()
    patch = document["components"]["schemas"]["EndpointPatch"]["properties"]
    # Only what the API accepts as null is documented as nullable.
    assert [name for name, field in patch.items()
            if {"type": "null"} in field.get("anyOf", [])] == ["vcs_ip", "sip_uri"]
    endpoint = f"/endpoints/{world.ep_commune.pk}"
    # A VCS terminal on the private networks needs its address (a rule); a personal device not.
    answer = world.op._send("patch", endpoint, {"terminal_kind": "personal", "vcs_ip": None})
    assert answer.status_code == 200, answer.content
    assert answer.json()["vcs_ip"] is None
    # The SIP account of a terminal can be cleared the same way.
    cleared = world.op._send("patch", endpoint, {"sip_uri": None})
    assert cleared.status_code == 200, cleared.content
    assert locations(world.op._send("patch", endpoint, {"name": None})) == [["body", "name"]]
    meeting = live_meeting(None, world.district, [world.commune]).meeting
    made = world.op.post(f"/meetings/{meeting.pk}/incidents",
                         {"description": "Mất hình", "endpoint": None})
    assert made.status_code == 201, made.content
    start = working_day_at(6, 9)
    body = meeting_body(world.district, world.ep_district, [], start, repeat=None,
                        rehearsal_starts_at=None, rehearsal_ends_at=None)
    assert world.office.post("/meetings", body).status_code == 201
    contact = {"role": "technician", "full_name": "Lê Văn A", "phone": "0905111222",
               "trained_on": None}
    assert world.op.post(f"/endpoints/{world.ep_commune.pk}/contacts", contact).status_code == 201



@pytest.mark.django_db
def test_a_multipart_body_without_a_boundary_is_a_400_with_a_message(world):
    """A broken upload is the client's error: a 400 with words, JSON on the API."""
    meeting = Meeting.objects.filter(host_endpoint__agency=world.district).first() or \
        Meeting.objects.first()
    client = Client()
    client.force_login(UserFactory(role=Role.OPERATOR, agency=world.department))
    response = client.post(f"/api/v1/meetings/{meeting.pk if meeting else 1}/materials",
                           data=b"--x\r\nbroken", content_type="multipart/form-data")
    assert message(response, 400)  # the API's words for a bad request
    page = client.post("/accounts/password/", data=b"--x\r\nbroken",
                       content_type="multipart/form-data")
    assert page.status_code == 400 and "multipart" in page.content.decode()
