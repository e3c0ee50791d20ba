"""Rooms and their devices (KH Đ6.4, Đ8), changes to admitted endpoints only with the
operator's consent (ĐN Đ6.6, KH Đ11.5, Đ16.5), the evaluation checklist from the rulebook and
the controlling room's requirements (KH Đ10.2, ĐN Đ9.2): services, roles and the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone, translation

from diemcau.core.errors import InvalidInput, PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import ChangeRequestStatus, EndpointStatus, TerminalKind
from diemcau.directory.models import Endpoint, EndpointChangeRequest
from diemcau.directory.rules import Stage, unmet
from diemcau.directory.selectors import suggested_device_name
from diemcau.directory.services.endpoints import counted_endpoints
from diemcau.rulebooks import active_rulebook
from diemcau.testing.factories import ApprovedEndpointFactory, EndpointFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def edit(endpoint: Endpoint, **changes: Any) -> services.EndpointInput:
    """The endpoint's values as an edit form sends them, with `changes`."""
    values: dict[str, Any] = {
        "agency": endpoint.agency, "name": endpoint.name,
        "terminal_kind": endpoint.terminal_kind, "network": endpoint.network,
        "bandwidth_mbps": endpoint.bandwidth_mbps, "dedicated_line": endpoint.dedicated_line,
        "vcs_ip": endpoint.vcs_ip, "sip_uri": endpoint.sip_uri, "location": endpoint.location,
        "room_meets_standard": endpoint.room_meets_standard, "room_notes": endpoint.room_notes,
    }
    values.update(changes)
    return services.EndpointInput(**values)


@pytest.fixture
def world(kh_world: SimpleNamespace) -> SimpleNamespace:
    w = kh_world
    w.district_tech = UserFactory(role=Role.TECHNICIAN, agency=w.district)
    w.auditor = UserFactory(role=Role.AUDITOR, agency=None)
    for endpoint in (w.ep_district, w.ep_commune, w.ep_province, w.ep_other):
        endpoint.vcs_ip = "10.56.1.20"
        endpoint.network = "tslcd"
        endpoint.dedicated_line = True
        endpoint.bandwidth_mbps = Decimal("8")
        endpoint.security_check_due = False
        endpoint.save()
    return w


# ---------------------------------------------------------------- item 1: consent


def test_an_office_edit_of_admitted_parameters_waits_for_the_operator(world):
    endpoint = world.ep_district
    result = services.edit_endpoint(
        endpoint, edit(endpoint, bandwidth_mbps=Decimal("10"), location="Phòng 3"),
        actor=world.district_office, reason="Nâng băng thông",
    )
    endpoint.refresh_from_db()
    assert endpoint.location == "Phòng 3"  # the agency's own field is saved at once
    assert endpoint.bandwidth_mbps == Decimal("8")  # the parameter is not
    request = result.change_request
    assert request is not None and request.status == ChangeRequestStatus.PENDING
    assert request.changes == {"bandwidth_mbps": "10.0"}
    assert request.previous == {"bandwidth_mbps": "8.0"}
    assert AuditEvent.objects.filter(action="endpoint.change_request").count() == 1
    assert endpoint.status == EndpointStatus.APPROVED


def test_an_endpoint_not_yet_admitted_stays_directly_editable(world):
    pending = EndpointFactory(agency=world.other_commune, name="CR.CamNghia.01",
                              network="tslcd", dedicated_line=True, vcs_ip="10.0.0.9",
                              bandwidth_mbps=Decimal("8"))
    result = services.edit_endpoint(
        pending, edit(pending, bandwidth_mbps=Decimal("12"), vcs_ip="10.0.0.10"),
        actor=world.other_office,
    )
    pending.refresh_from_db()
    assert result.change_request is None
    assert pending.bandwidth_mbps == Decimal("12") and pending.vcs_ip == "10.0.0.10"
    assert not EndpointChangeRequest.objects.exists()


def test_the_operator_edits_an_admitted_endpoint_at_once(world):
    result = services.edit_endpoint(
        world.ep_district, edit(world.ep_district, vcs_ip="10.56.1.30"), actor=world.operator
    )
    world.ep_district.refresh_from_db()
    assert result.change_request is None and world.ep_district.vcs_ip == "10.56.1.30"


def test_approving_a_new_terminal_sends_it_back_to_the_police_check(world, use_rulebook):
    use_rulebook("dong-nai-2025")
    endpoint = world.ep_district
    request = services.request_change(
        endpoint, {"terminal_kind": TerminalKind.PERSONAL}, actor=world.district_office,
        reason="Thay thiết bị",
    )
    endpoint.refresh_from_db()
    assert endpoint.terminal_kind == TerminalKind.VCS and not endpoint.security_check_due
    services.approve_change(request, actor=world.operator, note="Đồng ý")
    endpoint.refresh_from_db()
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED and request.decided_by == world.operator
    assert endpoint.terminal_kind == TerminalKind.PERSONAL
    # ĐN Đ16.5: the new terminal is checked by the police before use.
    assert endpoint.security_check_due
    assert [c.code for c in unmet(endpoint, Stage.USE)] == ["endpoint_security_check_due"]
    assert AuditEvent.objects.filter(action="endpoint.change_approved").count() == 1


def test_a_refused_change_keeps_the_parameters_and_needs_a_reason(world):
    endpoint = world.ep_district
    request = services.request_change(endpoint, {"vcs_ip": "10.56.1.99"},
                                      actor=world.district_office)
    with pytest.raises(InvalidInput) as empty:
        services.refuse_change(request, actor=world.operator, reason=" ")
    assert "reason" in empty.value.errors
    services.refuse_change(request, actor=world.operator, reason="Địa chỉ chưa cấp")
    endpoint.refresh_from_db()
    request.refresh_from_db()
    assert endpoint.vcs_ip == "10.56.1.20" and request.status == ChangeRequestStatus.REFUSED
    # A decided request is not decided again.
    with pytest.raises(Exception, match="already decided"):
        services.approve_change(request, actor=world.operator)


def test_one_pending_request_per_endpoint_with_the_article(world):
    services.request_change(world.ep_district, {"vcs_ip": "10.56.1.99"},
                            actor=world.district_office)
    with pytest.raises(RuleViolation) as second:
        services.edit_endpoint(
            world.ep_district, edit(world.ep_district, bandwidth_mbps=Decimal("20")),
            actor=world.district_office,
        )
    assert second.value.code == "endpoint_change_pending"
    assert second.value.article == "Điều 11.5 Quy chế KH"


def test_a_request_is_checked_by_the_same_rules_as_a_registration(world):
    with pytest.raises(RuleViolation) as slow:
        services.request_change(world.ep_district, {"bandwidth_mbps": "2"},
                                actor=world.district_office)
    assert slow.value.article.startswith("Điều 6.3") and slow.value.field == "bandwidth_mbps"
    with pytest.raises(InvalidInput):
        services.request_change(world.ep_district, {"name": "x"}, actor=world.district_office)
    with pytest.raises(InvalidInput):
        services.request_change(world.ep_district, {"vcs_ip": "10.56.1.20"},
                                actor=world.district_office)  # nothing would change


# Role × action, written out: who may ask for a change of the district's endpoint, and who
# may decide it. Agency staff ask in their scope; only the operator (and admin) decides.
REQUEST_MATRIX = [
    (Role.OFFICE, "district", True),
    (Role.TECHNICIAN, "district", True),
    (Role.OFFICE, "other_district", False),
    (Role.TECHNICIAN, "commune", False),
    (Role.AUDITOR, None, False),
    (Role.OPERATOR, "department", True),
    (Role.ADMIN, None, True),
]
DECIDE_MATRIX = [
    (Role.OFFICE, "district", False),
    (Role.TECHNICIAN, "district", False),
    (Role.AUDITOR, None, False),
    (Role.OPERATOR, "department", True),
    (Role.ADMIN, None, True),
]


@pytest.mark.parametrize(("role", "agency", "allowed"), REQUEST_MATRIX)
def test_who_may_request_a_change(world, role, agency, allowed):
    user = UserFactory(role=role, agency=getattr(world, agency) if agency else None)
    if allowed:
        services.request_change(world.ep_district, {"vcs_ip": "10.56.1.77"}, actor=user)
        assert EndpointChangeRequest.objects.count() == 1
    else:
        with pytest.raises(PermissionDenied):
            services.request_change(world.ep_district, {"vcs_ip": "10.56.1.77"}, actor=user)


@pytest.mark.parametrize("decision", ["approve", "refuse"])
@pytest.mark.parametrize(("role", "agency", "allowed"), DECIDE_MATRIX)
def test_who_may_decide_a_change(world, role, agency, allowed, decision):
    request = services.request_change(world.ep_district, {"vcs_ip": "10.56.1.77"},
                                      actor=world.district_office)
    user = UserFactory(role=role, agency=getattr(world, agency) if agency else None)

    def decide() -> Any:
        if decision == "approve":
            return services.approve_change(request, actor=user)
        return services.refuse_change(request, actor=user, reason="Không")

    if allowed:
        assert decide().status != ChangeRequestStatus.PENDING
    else:
        with pytest.raises(PermissionDenied):
            decide()
        request.refresh_from_db()
        assert request.status == ChangeRequestStatus.PENDING


# ---------------------------------------------------------------- item 3: the checklist


@pytest.mark.parametrize("role", [Role.OFFICE, Role.TECHNICIAN, Role.AUDITOR])
def test_only_the_operator_records_the_evaluation(world, role):
    user = UserFactory(role=role, agency=world.district)
    pending = EndpointFactory(agency=world.district, name="UBND.Nha Trang.01")
    with pytest.raises(PermissionDenied):
        services.evaluate_endpoint(pending, services.EvaluationInput.all_met(), actor=user)
    assert not pending.evaluations.exists()


def test_the_evaluation_records_one_answer_per_rulebook_item(world):
    pending = EndpointFactory(agency=world.district, name="UBND.Nha Trang.01")
    items = active_rulebook().room_standard.items
    answers = {item.key: True for item in items}
    with pytest.raises(InvalidInput) as missing:
        services.evaluate_endpoint(
            pending, services.EvaluationInput({"power": True}), actor=world.operator
        )
    assert "answers" in missing.value.errors
    with pytest.raises(InvalidInput):
        services.evaluate_endpoint(
            pending, services.EvaluationInput({**answers, "coffee": True}), actor=world.operator
        )
    evaluation = services.evaluate_endpoint(
        pending, services.EvaluationInput({**answers, "power": False}), actor=world.operator
    )
    recorded = {a.item_key: (a.article, a.met) for a in evaluation.answers.all()}
    assert recorded == {item.key: (item.article, item.key != "power") for item in items}
    assert recorded["room_layout"][0] == "Điều 6.1" and recorded["power"][0] == "Điều 6.2"
    assert not evaluation.passed
    pending.refresh_from_db()
    assert pending.status == EndpointStatus.REJECTED and not pending.room_meets_standard


def test_dong_nai_items_are_article_6_clauses_1_to_5(world, use_rulebook):
    use_rulebook("dong-nai-2025")
    articles = [item.article for item in active_rulebook().room_standard.items]
    assert articles == ["Điều 6.1", "Điều 6.2", "Điều 6.3", "Điều 6.4", "Điều 6.5"]
    pending = EndpointFactory(agency=world.district)
    evaluation = services.evaluate_endpoint(
        pending, services.EvaluationInput.all_met(), actor=world.operator
    )
    assert evaluation.passed and evaluation.answers.count() == 5
    pending.refresh_from_db()
    assert pending.meets_control_requirements  # ĐN Đ9.2: clauses 1–5, no further item


def test_a_failed_evaluation_of_an_admitted_room_suspends_it(world):
    answers = {**services.EvaluationInput.all_met().answers, "connection": False}
    services.evaluate_endpoint(world.ep_district, services.EvaluationInput(answers, "Mất kết nối"),
                               actor=world.operator)
    world.ep_district.refresh_from_db()
    assert world.ep_district.status == EndpointStatus.SUSPENDED
    assert world.ep_district.status_reason == "Mất kết nối"


def _meeting(host: Endpoint, creator: Any) -> Any:
    from diemcau.scheduling.models import Meeting

    start = timezone.now() + dt.timedelta(minutes=5)
    return Meeting.objects.create(
        title="Giao ban", host_agency=host.agency, host_endpoint=host, starts_at=start,
        ends_at=start + dt.timedelta(hours=2), place="Phòng họp", contact_name="A",
        contact_phone="0912345678", status="accepted", created_by=creator,
    )


def test_control_rights_need_the_controlling_room_evaluated_with_its_laptop(world):
    from diemcau.scheduling.services.lifecycle import start_meeting

    endpoint = world.ep_district
    endpoint.meets_control_requirements = False
    endpoint.save()
    meeting = _meeting(endpoint, world.district_office)
    with pytest.raises(RuleViolation) as refused:
        start_meeting(meeting, actor=world.district_tech)
    assert refused.value.code == "control_room_not_evaluated"
    assert refused.value.article == "Điều 10.2 Quy chế KH"
    # The room passes the standard but has no laptop (Đ10.2b): still no control rights.
    answers = {**services.EvaluationInput.all_met().answers, "control_laptop": False}
    services.evaluate_endpoint(endpoint, services.EvaluationInput(answers), actor=world.operator)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.APPROVED and not endpoint.meets_control_requirements
    with pytest.raises(RuleViolation):
        start_meeting(meeting, actor=world.district_tech)
    services.evaluate_endpoint(endpoint, services.EvaluationInput.all_met(),
                               actor=world.operator)
    assert start_meeting(meeting, actor=world.district_tech).status == "live"


def test_a_commune_meeting_is_controlled_from_the_district_room(world):
    """KH Đ14.3a: the district controls; its room's evaluation is what counts."""
    from diemcau.scheduling.permissions import control_refusal

    meeting = _meeting(world.ep_commune, world.district_office)
    world.ep_commune.meets_control_requirements = False
    world.ep_commune.save()
    assert control_refusal(world.district_tech, meeting) is None  # district room passes
    world.ep_district.meets_control_requirements = False
    world.ep_district.save()
    assert control_refusal(world.district_tech, meeting) is not None
    assert control_refusal(world.operator, meeting) is None  # the operators always control


def test_control_standing_says_what_the_two_checks_say(world):
    """`control_standing` (one look-up of the controlling agency) answers as `can_control`
    and `control_refusal` do, for the operator, the district's technician with and without a
    passing room, and a technician out of scope."""
    from diemcau.scheduling.permissions import can_control, control_refusal, control_standing

    meeting = _meeting(world.ep_commune, world.district_office)
    outsider = UserFactory(role=Role.TECHNICIAN, agency=world.other_district)
    for passing in (True, False):
        world.ep_district.meets_control_requirements = passing
        world.ep_district.save()
        for user in (world.operator, world.district_tech, outsider):
            allowed, refusal = control_standing(user, meeting)
            assert allowed == can_control(user, meeting)
            expected = control_refusal(user, meeting) if allowed else None
            assert (refusal is None) == (expected is None)
            if expected is not None:
                assert refusal.code == expected.code
    assert control_standing(world.district_tech, meeting)[1] is not None  # room fails now
    assert control_standing(outsider, meeting) == (False, None)


# ---------------------------------------------------------------- item 2: rooms and devices


def test_a_department_at_its_quota_adds_a_second_device_to_its_room(world):
    room = ApprovedEndpointFactory(agency=world.department, name="So.TTTT",
                                   security_check_due=False)
    office = UserFactory(role=Role.OFFICE, agency=world.department)
    with pytest.raises(RuleViolation) as full:
        services.register_endpoint(edit(room, name="So.TTTT.01"), actor=office)
    assert full.value.article == "Điều 8.2 Quy chế KH"  # KH Đ8 khoản 2
    assert suggested_device_name(room, active_rulebook()) == "So.TTTT.01"
    device = services.add_device(room, services.DeviceInput("So.TTTT.01", "vcs", "10.1.1.2"),
                                 actor=office)
    assert device.endpoint == room and counted_endpoints(world.department) == 1
    assert suggested_device_name(room, active_rulebook()) == "So.TTTT.02"
    # The devices share one namespace with the endpoints, and follow the naming rule.
    with pytest.raises(InvalidInput):
        services.add_device(room, services.DeviceInput("So.TTTT.01", "vcs"), actor=office)
    with pytest.raises(RuleViolation) as badly_named:
        services.add_device(room, services.DeviceInput("May2", "vcs"), actor=office)
    assert badly_named.value.article.startswith("Điều 6.4")
    with pytest.raises(InvalidInput):
        services.register_endpoint(edit(world.ep_other, agency=world.department,
                                        name="So.TTTT.01"), actor=world.operator)
    assert AuditEvent.objects.filter(action="endpoint.device_add").count() == 1


def test_a_new_device_of_an_admitted_room_waits_for_the_police_check(world, use_rulebook):
    use_rulebook("dong-nai-2025")
    office = UserFactory(role=Role.OFFICE, agency=world.district)
    services.add_device(world.ep_district, services.DeviceInput("Phong hop 2", "vcs"),
                        actor=office)
    world.ep_district.refresh_from_db()
    assert world.ep_district.security_check_due  # ĐN Đ16.5


def test_devices_are_removed_only_in_scope(world):
    device = services.add_device(world.ep_district, services.DeviceInput("UBND.Nha Trang.01",
                                                                         "vcs"),
                                 actor=world.district_office)
    with pytest.raises(PermissionDenied):
        services.remove_device(device, actor=world.other_office)
    services.remove_device(device, actor=world.district_office)
    assert not world.ep_district.devices.exists()


def test_a_misnamed_registration_at_a_full_quota_is_told_of_the_quota(world):
    ApprovedEndpointFactory(agency=world.department, name="So.TTTT")
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(edit(world.ep_other, agency=world.department, name="Phong 2",
                                        vcs_ip="10.1.1.9"), actor=world.operator)
    assert refused.value.code == "endpoint_quota_exceeded"
    assert refused.value.article == "Điều 8.2 Quy chế KH"
