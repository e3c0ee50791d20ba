"""Directory services under both rulebooks: naming (R3), quotas (R4), admission (R5),
contacts (R6). Every refusal must cite its article and leave nothing behind."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import (
    AgencyKind,
    ContactRole,
    EndpointStatus,
    Network,
    SecurityCheckReason,
    SecurityCheckResult,
    TerminalKind,
)
from diemcau.directory.models import Contact, Endpoint
from diemcau.testing.factories import AgencyFactory, UserFactory


def endpoint_input(agency, name, **overrides):
    data = dict(
        agency=agency,
        name=name,
        terminal_kind=TerminalKind.VCS,
        network=Network.TSLCD,
        bandwidth_mbps=Decimal("8"),
        dedicated_line=True,
        vcs_ip="10.56.0.10",
        room_meets_standard=True,
    )
    data.update(overrides)
    return services.EndpointInput(**data)


@pytest.fixture
def operator(kh_tree):
    return UserFactory(role=Role.OPERATOR, agency=kh_tree.department)


@pytest.fixture
def district_office(kh_tree):
    return UserFactory(role=Role.OFFICE, agency=kh_tree.district)


# ---------------------------------------------------------------- naming (KH Đ6.4)


@pytest.mark.parametrize(
    ("agency_attr", "good", "bad"),
    [
        ("province", "UBND.Khanh Hoa", "UBND Khanh Hoa"),
        ("department", "So.TTTT", "SoTTTT"),
        ("district", "UBND.Nha Trang", "UBND.NhaTrang"),
        ("commune", "NT.XuongHuan", "NT.Xuong Huan"),
    ],
)
def test_kh_naming_rule(kh_tree, operator, use_rulebook, agency_attr, good, bad):
    use_rulebook("khanh-hoa-2023")
    agency = getattr(kh_tree, agency_attr)
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(endpoint_input(agency, bad), actor=operator)
    assert refused.value.field == "name"
    assert "Điều 6.4" in refused.value.article and "KH" in refused.value.article
    assert good in refused.value.message  # the correct name is suggested
    assert not Endpoint.objects.exists()
    endpoint = services.register_endpoint(endpoint_input(agency, good), actor=operator)
    assert endpoint.status == EndpointStatus.PENDING


def test_kh_device_suffix_for_several_devices(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    services.register_endpoint(
        endpoint_input(kh_tree.district, "UBND.Nha Trang.01"), actor=operator
    )
    services.register_endpoint(
        endpoint_input(kh_tree.district, "UBND.Nha Trang.02"), actor=operator
    )
    with pytest.raises(RuleViolation):
        services.register_endpoint(
            endpoint_input(kh_tree.province, "UBND.Khanh Hoa.1"), actor=operator
        )


def test_dn_has_no_naming_rule(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.department, "Phong hop So"), actor=operator
    )
    assert endpoint.name == "Phong hop So"


def test_duplicate_name_is_a_field_error(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    services.register_endpoint(endpoint_input(kh_tree.department, "Phong A"), actor=operator)
    with pytest.raises(InvalidInput) as refused:
        services.register_endpoint(endpoint_input(kh_tree.province, "phong a"), actor=operator)
    assert "name" in refused.value.errors


# ---------------------------------------------------------------- quotas (KH Đ8)


def test_kh_quota_and_recorded_exception(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    district = kh_tree.district
    services.register_endpoint(endpoint_input(district, "UBND.Nha Trang.01"), actor=operator)
    services.register_endpoint(endpoint_input(district, "UBND.Nha Trang.02"), actor=operator)
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(endpoint_input(district, "UBND.Nha Trang.03"), actor=operator)
    assert "Điều 8" in refused.value.article
    assert refused.value.field == "agency"
    assert district.endpoints.count() == 2

    services.record_quota_exception(
        district,
        extra_endpoints=1,
        decision_reference="QĐ 123/QĐ-UBND",
        decided_on=dt.date(2026, 1, 5),
        actor=operator,
    )
    services.register_endpoint(endpoint_input(district, "UBND.Nha Trang.03"), actor=operator)
    assert district.endpoints.count() == 3


def test_kh_department_quota_is_one_and_rejected_do_not_count(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    first = services.register_endpoint(
        endpoint_input(kh_tree.department, "So.TTTT"), actor=operator
    )
    with pytest.raises(RuleViolation):
        services.register_endpoint(endpoint_input(kh_tree.department, "So.TTTT.01"), actor=operator)
    services.evaluate_endpoint(
        first, services.EvaluationInput({**services.EvaluationInput.all_met().answers,
                                         "room_layout": False}, "phòng"), actor=operator
    )
    services.register_endpoint(endpoint_input(kh_tree.department, "So.TTTT.01"), actor=operator)


def test_kh_province_committee_is_unlimited(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    for n in range(1, 5):
        services.register_endpoint(
            endpoint_input(kh_tree.province, f"UBND.Khanh Hoa.{n:02d}"), actor=operator
        )
    assert kh_tree.province.endpoints.count() == 4


def test_dn_quota_is_by_need(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    for n in range(4):
        services.register_endpoint(endpoint_input(kh_tree.department, f"So {n}"), actor=operator)
    assert kh_tree.department.endpoints.count() == 4


# ---------------------------------------------------------------- lines (KH Đ6.3)


def test_kh_bandwidth_minimums(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(kh_tree.department, "So.TTTT", bandwidth_mbps=Decimal("3")),
            actor=operator,
        )
    assert refused.value.field == "bandwidth_mbps" and "Điều 6.3" in refused.value.article
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(kh_tree.department, "So.TTTT", dedicated_line=False), actor=operator
        )
    assert refused.value.field == "dedicated_line"
    assert not Endpoint.objects.exists()


def test_kh_internet_only_for_other_agencies(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(
                kh_tree.department,
                "So.TTTT",
                network=Network.INTERNET,
                bandwidth_mbps=Decimal("30"),
            ),
            actor=operator,
        )
    assert refused.value.field == "network"
    other = AgencyFactory(name="Ngân hàng Nhà nước chi nhánh", kind=AgencyKind.OTHER)
    internet = dict(network=Network.INTERNET, terminal_kind=TerminalKind.PERSONAL, vcs_ip=None)
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(other, "NHNN", bandwidth_mbps=Decimal("10"), **internet), actor=operator
        )
    assert refused.value.field == "bandwidth_mbps"
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(
                other, "NHNN", bandwidth_mbps=Decimal("25"), dedicated_line=False, **internet
            ),
            actor=operator,
        )
    assert refused.value.field == "dedicated_line"
    services.register_endpoint(
        endpoint_input(other, "NHNN", bandwidth_mbps=Decimal("25"), **internet), actor=operator
    )


def test_kh_vcs_on_tslcd_needs_its_ip(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    with pytest.raises(RuleViolation) as refused:
        services.register_endpoint(
            endpoint_input(kh_tree.department, "So.TTTT", vcs_ip=None), actor=operator
        )
    assert refused.value.field == "vcs_ip" and "Điều 11.7" in refused.value.article
    use_rulebook("dong-nai-2025")
    services.register_endpoint(
        endpoint_input(kh_tree.department, "So TTTT", vcs_ip=None), actor=operator
    )


# ---------------------------------------------------------------- scope


def test_office_registers_for_its_communes_but_not_others(kh_tree, district_office, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    services.register_endpoint(
        endpoint_input(kh_tree.commune, "NT.XuongHuan"), actor=district_office
    )
    with pytest.raises(PermissionDenied):
        services.register_endpoint(
            endpoint_input(kh_tree.other_commune, "CR.CamNghia"), actor=district_office
        )


def test_technician_cannot_approve(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.commune, "NT.XuongHuan"), actor=tech
    )
    with pytest.raises(PermissionDenied):
        services.evaluate_endpoint(
            endpoint, services.EvaluationInput.all_met(), actor=tech
        )


# ---------------------------------------------------------------- admission (R5)


def _contacts(endpoint, actor):
    services.set_contact(
        endpoint, services.ContactInput(ContactRole.LEADER, "Trần Lan", "0912 345 678"), actor=actor
    )
    services.set_contact(
        endpoint,
        services.ContactInput(ContactRole.TECHNICIAN, "Lê Kỹ", "+84912345679"),
        actor=actor,
    )


def test_kh_admission_flow(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.district, "UBND.Nha Trang"), actor=operator
    )
    with pytest.raises(InvalidTransition):
        services.approve_endpoint(endpoint, actor=operator)
    services.evaluate_endpoint(
        endpoint, services.EvaluationInput.all_met(), actor=operator
    )
    with pytest.raises(RuleViolation) as refused:
        services.approve_endpoint(endpoint, actor=operator)
    assert refused.value.code == "endpoint_contacts_missing"
    _contacts(endpoint, operator)
    endpoint, password = services.approve_endpoint(endpoint, actor=operator)
    assert endpoint.status == EndpointStatus.APPROVED
    assert endpoint.account_username == "UBND.Nha Trang"
    assert len(password) >= 12 and password not in endpoint.account_password_hash
    assert endpoint.account_issued_at is not None
    assert verify_chain().ok
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "endpoint.register",
        "endpoint.evaluate",
        "contact.set",
        "contact.set",
        "endpoint.approve",
    ]
    assert password not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_dn_needs_the_police_security_check(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.department, "So KHCN"), actor=operator
    )
    services.evaluate_endpoint(
        endpoint, services.EvaluationInput.all_met(), actor=operator
    )
    _contacts(endpoint, operator)
    with pytest.raises(RuleViolation) as refused:
        services.approve_endpoint(endpoint, actor=operator)
    assert "Điều 8.3" in refused.value.article or "Điều 16.5" in refused.value.article
    today = timezone.localdate()
    services.record_security_check(
        endpoint,
        services.SecurityCheckInput(
            SecurityCheckReason.NEW, SecurityCheckResult.PASSED, today, "BB 01"
        ),
        actor=operator,
    )
    endpoint, _ = services.approve_endpoint(endpoint, actor=operator)
    assert endpoint.status == EndpointStatus.APPROVED

    # A repair makes the check due again; a failed check suspends the device.
    services.report_repair(endpoint, note="Thay camera", actor=operator)
    services.suspend_endpoint(endpoint, reason="Đang sửa chữa", actor=operator)
    with pytest.raises(RuleViolation):
        services.reinstate_endpoint(endpoint, actor=operator)
    services.record_security_check(
        endpoint,
        services.SecurityCheckInput(
            SecurityCheckReason.REPAIRED, SecurityCheckResult.PASSED, today, "BB 02"
        ),
        actor=operator,
    )
    endpoint = services.reinstate_endpoint(endpoint, actor=operator)
    assert endpoint.status == EndpointStatus.APPROVED
    services.record_security_check(
        endpoint,
        services.SecurityCheckInput(
            SecurityCheckReason.PERIODIC, SecurityCheckResult.FAILED, today, "BB 03", "lỗ hổng"
        ),
        actor=operator,
    )
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.SUSPENDED and endpoint.security_check_due


def test_future_security_check_date_is_refused(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    endpoint = services.register_endpoint(endpoint_input(kh_tree.department, "S"), actor=operator)
    with pytest.raises(InvalidInput) as refused:
        services.record_security_check(
            endpoint,
            services.SecurityCheckInput(
                SecurityCheckReason.NEW,
                SecurityCheckResult.PASSED,
                timezone.localdate() + dt.timedelta(days=2),
            ),
            actor=operator,
        )
    assert "checked_on" in refused.value.errors


def test_suspend_needs_a_reason(kh_tree, operator, use_rulebook):
    use_rulebook("dong-nai-2025")
    endpoint = services.register_endpoint(endpoint_input(kh_tree.department, "S"), actor=operator)
    services.evaluate_endpoint(
        endpoint, services.EvaluationInput.all_met(), actor=operator
    )
    with pytest.raises(InvalidInput):
        services.suspend_endpoint(endpoint, reason="  ", actor=operator)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.EVALUATED


# ---------------------------------------------------------------- contacts (R6)


def test_contact_change_keeps_history(kh_tree, operator, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.department, "So.TTTT"), actor=operator
    )
    first = services.set_contact(
        endpoint,
        services.ContactInput(ContactRole.TECHNICIAN, "Lê Kỹ", "0912345678"),
        actor=operator,
    )
    second = services.set_contact(
        endpoint,
        services.ContactInput(
            ContactRole.TECHNICIAN, "Phạm Mới", "0987654321", change_reason="luân chuyển"
        ),
        actor=operator,
    )
    first.refresh_from_db()
    assert first.active_until is not None and second.is_current
    assert second.trained_on is None  # replacement staff still needs training
    assert Contact.objects.filter(endpoint=endpoint).count() == 2
    services.end_contact(second, reason="nghỉ việc", actor=operator)
    with pytest.raises(InvalidTransition):
        services.end_contact(second, reason="again", actor=operator)


@pytest.mark.parametrize("phone", ["12345", "09123", "abc0912345678", ""])
def test_bad_phone_is_a_field_error(kh_tree, operator, use_rulebook, phone):
    use_rulebook("khanh-hoa-2023")
    endpoint = services.register_endpoint(
        endpoint_input(kh_tree.department, "So.TTTT"), actor=operator
    )
    with pytest.raises(InvalidInput) as refused:
        services.set_contact(
            endpoint, services.ContactInput(ContactRole.LEADER, "A", phone), actor=operator
        )
    assert "phone" in refused.value.errors
    assert not endpoint.contacts.exists()
