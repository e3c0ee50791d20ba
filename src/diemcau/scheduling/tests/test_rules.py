"""One predicate per rule: the pages, the API and the services give the same answer — the
reply-deadline state (R9), the incident rules (R15, R16) and the endpoint readiness a
registration asks for (R5, R20)."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from diemcau.core.errors import InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.roles import Role
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.rules import Stage, readiness_refusal
from diemcau.scheduling.models import Incident, Meeting
from diemcau.scheduling.rules import (
    ReplyState,
    incident_refusal,
    incident_update_refusal,
    reply_deadline,
)
from diemcau.scheduling.services import approval, checks, lifecycle, registration
from diemcau.scheduling.tests.test_api import (
    Caller,
    caller,
    detail,
    meeting_body,
    working_day_at,
)
from diemcau.scheduling.tests.test_views import form_data, local_input
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kh_tree: SimpleNamespace, use_rulebook: Any) -> SimpleNamespace:
    use_rulebook("khanh-hoa-2023")
    w = kh_tree
    w.operator = caller(Role.OPERATOR, w.department)
    w.district_office = caller(Role.OFFICE, w.district)
    w.commune_tech = caller(Role.TECHNICIAN, w.commune)
    w.ep_district = ApprovedEndpointFactory(agency=w.district, name="UBND.Nha Trang")
    w.ep_commune = ApprovedEndpointFactory(agency=w.commune, name="NT.XuongHuan")
    w.node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    return w


def page_client(who: Caller) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(who.user)
    return client


def register(w: SimpleNamespace, start: dt.datetime, *, submit: bool = True,
             participants: list[Any] | None = None, **extra: Any) -> Meeting:
    data = registration.MeetingInput(
        title=f"Giao ban {start:%d/%m %H:%M}",
        host_agency=w.district,
        host_endpoint=w.ep_district,
        participants=participants if participants is not None else [w.ep_commune],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        place="Phòng họp trực tuyến",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
        **extra,
    )
    return registration.create_meeting(data, actor=w.district_office.user, submit=submit)


# ---------------------------------------------------------------- the reply deadline (R9)


def test_reply_state_is_the_same_on_the_pages_in_the_api_and_for_the_worker(world):
    """KH Đ13.2b: one meeting due, one due soon (the rulebook's warning time), one overdue —
    the queue page's countdown, the meeting page, the API's queue and detail, the badges and
    the worker's warning and breach all say the same."""
    now = timezone.now()
    due = register(world, working_day_at(5, 9))
    soon = register(world, working_day_at(6, 9))
    late = register(world, working_day_at(7, 9))
    Meeting.objects.filter(pk=soon.pk).update(reply_due_at=now + dt.timedelta(minutes=10))
    Meeting.objects.filter(pk=late.pk).update(reply_due_at=now - dt.timedelta(minutes=5))
    expected = {due.pk: "ok", soon.pk: "warn", late.pk: "overdue"}
    for meeting in Meeting.objects.filter(pk__in=expected):
        deadline = reply_deadline(meeting)
        assert deadline is not None and deadline.state == expected[meeting.pk]
        assert deadline.article == "Điều 13.2b Quy chế KH"

    pages = page_client(world.operator)
    queue = pages.get(reverse("scheduling:operator_queue")).content.decode()
    shown = dict(
        re.findall(r'data-meeting="(\d+)".*?data-countdown[^>]*data-state="(\w+)"', queue, re.S)
    )
    assert {int(pk): state for pk, state in shown.items()} == expected
    for pk, state in expected.items():
        page = pages.get(reverse("scheduling:meeting_detail", args=[pk]))
        assert page.context["reply"]["state"] == state
    count = pages.get(reverse("scheduling:queue_count")).content.decode()
    assert 'data-queue-count="3"' in count and "1 overdue" in count
    assert pages.get(reverse("dashboard")).context["decisions_overdue"] == 1

    items = {i["id"]: i for i in world.operator.get("/operator/queue").json()["items"]}
    assert {pk: items[pk]["reply_state"] for pk in expected} == expected
    assert [pk for pk in expected if items[pk]["warning"]] == [soon.pk]
    assert [pk for pk in expected if items[pk]["breached"]] == [late.pk]
    for pk, state in expected.items():
        reply = world.operator.get(f"/meetings/{pk}").json()["reply"]
        assert reply["state"] == state and reply["article"] == "Điều 13.2b Quy chế KH"

    assert approval.warn_replies_due_soon() == 1
    assert approval.record_reply_breaches() == 1
    warned = Meeting.objects.filter(reply_warned_at__isnull=False).values_list("pk", flat=True)
    breached = Meeting.objects.filter(sla_breached_at__isnull=False).values_list("pk", flat=True)
    assert list(warned) == [soon.pk] and list(breached) == [late.pk]


def test_an_answer_after_the_deadline_stays_overdue_and_a_draft_has_none(world):
    late = register(world, working_day_at(5, 9))
    Meeting.objects.filter(pk=late.pk).update(
        reply_due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    accepted = lifecycle.accept_meeting(Meeting.objects.get(pk=late.pk),
                                        actor=world.operator.user)
    deadline = reply_deadline(accepted)
    assert deadline is not None and deadline.answered and deadline.state == ReplyState.OVERDUE
    page = page_client(world.operator).get(reverse("scheduling:meeting_detail",
                                                   args=[late.pk]))
    assert page.context["reply"]["state"] == "overdue" and "answered late" in page.content.decode()
    assert world.operator.get(f"/meetings/{late.pk}").json()["reply"]["state"] == "overdue"

    draft = register(world, working_day_at(6, 9), submit=False)
    assert reply_deadline(draft) is None
    assert world.district_office.get(f"/meetings/{draft.pk}").json()["reply"] is None


# ---------------------------------------------------------------- incidents (R15, R16)

EN = {"Accept-Language": "en"}


def test_no_incident_on_a_draft_or_a_waiting_registration_anywhere(world):
    """ĐN Đ12.4c, KH Đ14.4c: the API, the page and the service refuse alike (409, the same
    message); nothing is recorded."""
    draft = register(world, working_day_at(5, 9), submit=False)
    waiting = register(world, working_day_at(6, 9))
    pages = page_client(world.district_office)
    for meeting in (draft, waiting):
        with translation.override("en"):
            refusal = incident_refusal(meeting)
            assert refusal is not None
            with pytest.raises(InvalidTransition) as refused:
                checks.report_incident(meeting, description="Mất tiếng",
                                       actor=world.district_office.user)
            message = str(refusal)
            assert str(refused.value) == message and meeting.get_status_display() in message

        response = world.district_office.post(
            f"/meetings/{meeting.pk}/incidents", {"description": "Mất tiếng"}, **EN
        )
        assert response.status_code == 409 and response.json() == {"detail": message}

        url = reverse("scheduling:incident_report", args=[meeting.pk])
        posted = pages.post(url, {"description": "Mất tiếng"}, follow=True)
        assert posted.redirect_chain[-1][0] == reverse("scheduling:meeting_detail",
                                                       args=[meeting.pk])
        assert message in [str(m) for m in posted.context["messages"]]
        assert posted.context["actions"]["report"] is False
    assert not Incident.objects.exists()


def test_incidents_on_an_accepted_meeting_and_who_tracks_them(world):
    meeting = lifecycle.accept_meeting(register(world, working_day_at(5, 9)),
                                       actor=world.operator.user)
    assert incident_refusal(meeting) is None
    by_service = checks.report_incident(meeting, description="Mất hình",
                                        actor=world.commune_tech.user,
                                        endpoint_id=world.ep_commune.pk)
    by_api = world.commune_tech.post(f"/meetings/{meeting.pk}/incidents",
                                     {"description": "Mất tiếng", "endpoint": world.ep_commune.pk})
    assert by_api.status_code == 201, by_api.content
    pages = page_client(world.commune_tech)
    assert pages.get(reverse("scheduling:meeting_detail", args=[meeting.pk])
                     ).context["actions"]["report"] is True
    by_page = pages.post(reverse("scheduling:incident_report", args=[meeting.pk]),
                         {"endpoint": world.ep_commune.pk, "description": "Mất điện"})
    assert by_page.status_code == 302 and Incident.objects.count() == 3

    # Only the operator tracks them (403 for the technician everywhere) ...
    change = {"status": "closed", "resolution": "Đã thay cáp"}
    assert world.commune_tech.post(f"/incidents/{by_service.pk}", change).status_code == 403
    update_url = reverse("scheduling:incident_update", args=[by_service.pk])
    assert pages.post(update_url, change).status_code == 403
    with pytest.raises(PermissionDenied):
        checks.update_incident(by_service, actor=world.commune_tech.user, **change)
    # ... and a closed incident is final, for the API, the page and the service alike.
    closed = world.operator.post(f"/incidents/{by_service.pk}", change, **EN)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    with translation.override("en"):
        refusal = incident_update_refusal(Incident.objects.get(pk=by_service.pk))
        assert refusal is not None
        message = str(refusal)
        with pytest.raises(InvalidTransition, match=message):
            checks.update_incident(by_service, actor=world.operator.user, **change)
    again = world.operator.post(f"/incidents/{by_service.pk}", change, **EN)
    assert again.status_code == 409 and again.json() == {"detail": message}
    operator_pages = page_client(world.operator)
    posted = operator_pages.post(update_url, change, follow=True)
    assert message in [str(m) for m in posted.context["messages"]]
    detail = operator_pages.get(reverse("scheduling:meeting_detail", args=[meeting.pk]))
    may_update = {incident.pk: allowed for incident, allowed in detail.context["incidents"]}
    assert may_update[by_service.pk] is False and may_update[by_api.json()["id"]] is True


# ---------------------------------------------------------------- endpoint readiness (R5)


def test_registration_refuses_an_endpoint_not_ready_as_the_panel_and_the_api_say(
    world, use_rulebook
):
    """ĐN Đ8.3c, Đ16.5: a repaired device waits for its police check. The registration
    form's panel says so before submitting; the form, the API and the service refuse with the
    same code, article and message (`directory.rules`, stage "use")."""
    use_rulebook("dong-nai-2025")
    world.ep_commune.security_check_due = True
    world.ep_commune.save()
    start = working_day_at(5, 9)
    with translation.override("en"):
        refusal = readiness_refusal(world.ep_commune, Stage.USE, field="participants")
        assert refusal is not None
        with pytest.raises(RuleViolation) as refused:
            register(world, start)
        text = str(refusal)
    assert refused.value == refusal
    assert (refusal.code, refusal.article) == (
        "endpoint_security_check_due", "Điều 8.3c, Điều 16.5 Quy chế ĐN")

    pages = page_client(world.district_office)
    panel = pages.get(reverse("scheduling:rules_panel"), {
        "urgency": "normal",
        "starts_at": local_input(start),
        "ends_at": local_input(start + dt.timedelta(hours=2)),
        "host_endpoint": world.ep_district.pk,
        "participants": world.ep_commune.pk,
    }).content.decode()
    shown = re.findall(r'data-not-ready-endpoint="(\d+)" data-code="(\w+)">([^<]*)<span[^>]*>'
                       r'([^<]*)</span>', panel)
    assert [(int(pk), code, message.strip(), article) for pk, code, message, article in shown
            ] == [(world.ep_commune.pk, refusal.code, refusal.message, refusal.article)]
    posted = pages.post(reverse("scheduling:meeting_create"), form_data(world, start))
    assert posted.status_code == 200 and posted.context["form"].errors["participants"] == [text]

    body = meeting_body(world.district, world.ep_district, [world.ep_commune], start)
    [item] = detail(world.district_office.post("/meetings", body, **EN))
    assert (item["code"], item["article"], item["msg"], item["loc"]) == (
        refusal.code, refusal.article, text, ["body", "participants"])
    use = world.operator.get(f"/endpoints/{world.ep_commune.pk}", **EN).json()
    assert [(i["code"], i["article"], i["message"]) for i in use["readiness"]["use"]] == [
        (refusal.code, refusal.article, refusal.message)]
    assert not Meeting.objects.exists()


def test_a_suspended_endpoint_is_refused_with_the_admission_article(world):
    """R5 (KH Đ9.3): only admitted endpoints are named; the host's is refused on its field."""
    world.ep_district.status = EndpointStatus.SUSPENDED
    world.ep_district.save()
    start = working_day_at(5, 9)
    with translation.override("en"):
        refusal = readiness_refusal(world.ep_district, Stage.USE, field="host_endpoint")
        assert refusal is not None and refusal.code == "endpoint_not_admitted"
        with pytest.raises(RuleViolation) as refused:
            register(world, start)
    assert refused.value == refusal and refusal.article == "Điều 9.3 Quy chế KH"
    body = meeting_body(world.district, world.ep_district, [world.ep_commune], start)
    [item] = detail(world.district_office.post("/meetings", body, **EN))
    assert (item["code"], item["article"], item["loc"]) == (
        refusal.code, refusal.article, ["body", "host_endpoint"])
    assert not Meeting.objects.exists()
