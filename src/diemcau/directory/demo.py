"""Demo data for `make run`: the province's real agencies, one user per role, and a few
endpoints at different admission steps. Everything goes through the services, so the demo
also fills the audit log. Running it again changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from diemcau.core import two_factor
from diemcau.core.models import User
from diemcau.core.roles import Role
from diemcau.core.services.accounts import issue_two_factor_device
from diemcau.rulebooks import Rulebook, active_rulebook

from .choices import (
    AgencyKind,
    ContactRole,
    Network,
    SecurityCheckReason,
    SecurityCheckResult,
    TerminalKind,
)
from .importer import import_agencies
from .models import Agency, Endpoint
from .selectors import suggested_device_name, suggested_endpoint_name
from .services import (
    ContactInput,
    DeviceInput,
    EndpointInput,
    EvaluationInput,
    SecurityCheckInput,
    add_device,
    approve_endpoint,
    evaluate_endpoint,
    record_security_check,
    register_endpoint,
    request_change,
    set_contact,
)

DEMO_PASSWORD = "diemcau-demo-2026"

# The department that runs the system in each regulation (KH Đ3.8: Sở TTTT; ĐN Đ3.8: Sở KHCN).
_OPERATOR_DEPARTMENT_WORDS = ("Thông tin và Truyền thông", "Khoa học và Công nghệ")


DEMO_EMAIL_DOMAIN = "demo.diemcau.local"


@dataclass
class DemoAccount:
    username: str
    role: str
    agency: str
    # Accounts whose role signs in with a code (core.two_factor): their device, and whether
    # it was made by this run (its QR code is then worth printing).
    device: TOTPDevice | None = None
    device_is_new: bool = False


def _operator_agency() -> Agency:
    for words in _OPERATOR_DEPARTMENT_WORDS:
        agency = Agency.objects.filter(kind=AgencyKind.DEPARTMENT, name__icontains=words).first()
        if agency:
            return agency
    return Agency.objects.get(kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE)


def _local_office_and_commune() -> tuple[Agency, Agency]:
    # The lowest administrative code is the provincial capital's (Nha Trang, Biên Hòa…).
    district = (
        Agency.objects.filter(kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE).order_by("admin_code")
    ).first()
    if district is not None:
        commune = (
            district.children.filter(kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE)
            .order_by("admin_code")
            .first()
        )
        assert commune is not None
        return district, commune
    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE).order_by(
        "admin_code"
    )
    return communes[0], communes[1]


def _user(username: str, role: Role, agency: Agency, full_name: str) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "role": role,
            "agency": agency,
            "first_name": full_name,
            "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
        user.save()
    return user


def _endpoint(
    agency: Agency,
    rulebook: Rulebook,
    actor: User,
    *,
    network: str = Network.TSLCD,
    bandwidth: str = "10",
) -> Endpoint:
    name = suggested_endpoint_name(agency, rulebook)
    return register_endpoint(
        EndpointInput(
            agency=agency,
            name=name,
            terminal_kind=TerminalKind.VCS,
            network=network,
            bandwidth_mbps=Decimal(bandwidth),
            dedicated_line=True,
            vcs_ip=f"10.{rulebook.province_code}.0.{Endpoint.objects.count() + 10}",
            location="Phòng họp trực tuyến",
            room_meets_standard=True,
        ),
        actor=actor,
    )


def _admit(endpoint: Endpoint, operator: User, technician_name: str) -> None:
    evaluate_endpoint(
        endpoint, EvaluationInput.all_met("Đạt yêu cầu"), actor=operator
    )
    set_contact(
        endpoint,
        ContactInput(
            ContactRole.LEADER, "Trần Thị Lan", "0912000001", "lanh.dao@demo.diemcau.local"
        ),
        actor=operator,
    )
    set_contact(
        endpoint,
        ContactInput(
            ContactRole.TECHNICIAN,
            technician_name,
            "0912000002",
            "ky.thuat@demo.diemcau.local",
            trained_on=timezone.localdate() - dt.timedelta(days=30),
        ),
        actor=operator,
    )
    record_security_check(
        endpoint,
        SecurityCheckInput(
            SecurityCheckReason.NEW,
            SecurityCheckResult.PASSED,
            timezone.localdate(),
            "Công an tỉnh — biên bản demo",
        ),
        actor=operator,
    )
    approve_endpoint(endpoint, actor=operator)


@transaction.atomic
def load_demo() -> list[DemoAccount]:
    rulebook = active_rulebook()
    import_agencies(rulebook)
    province = Agency.objects.get(kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE)
    operator_agency = _operator_agency()
    office_agency, commune = _local_office_and_commune()
    admin = _user("quantri", Role.ADMIN, operator_agency, "Quản trị hệ thống")
    operator = _user("vanhanh", Role.OPERATOR, operator_agency, "Cán bộ vận hành MCU")
    office = _user("vanphong", Role.OFFICE, office_agency, "Văn phòng " + office_agency.name)
    _user("kythuat", Role.TECHNICIAN, commune, "Kỹ thuật " + commune.name)
    # The office's own technician runs its meetings from the host console (R16, R17).
    _user("dieukhien", Role.TECHNICIAN, office_agency, "Kỹ thuật " + office_agency.name)
    _user("kiemtra", Role.AUDITOR, province, "Cán bộ kiểm tra")

    if not Endpoint.objects.exists():
        for agency in (province, operator_agency, office_agency):
            endpoint = _endpoint(agency, rulebook, admin)
            if agency == office_agency:
                # A second device in the office's one room (KH Đ6.4); the quota counts rooms.
                add_device(endpoint, DeviceInput(
                    suggested_device_name(endpoint, rulebook), TerminalKind.VCS,
                    note="Máy tính xách tay điều khiển phiên họp",
                ), actor=admin)
            _admit(endpoint, operator, "Lê Văn Kỹ")
            if agency == office_agency:
                # Waiting in the operator's queue (ĐN Đ6.6, KH Đ11.5).
                request_change(endpoint, {"bandwidth_mbps": "20"}, actor=office,
                               reason="Nâng cấp đường truyền")
        _endpoint(commune, rulebook, admin)  # left pending: the operator's next job
    from diemcau.scheduling.demo import load_meetings

    load_meetings(province=province, office_agency=office_agency, operator=operator,
                  office=office)
    accounts = []
    for user in (
        User.objects.filter(
            username__in=["quantri", "vanhanh", "vanphong", "dieukhien", "kythuat", "kiemtra"]
        )
        .select_related("agency")
        .order_by("pk")
    ):
        account = DemoAccount(user.username, user.get_role_display(), str(user.agency))
        if two_factor.required_for(user):
            # R22: administrators and MCU operators sign in with a code, in the demo too; the
            # demo hands their keys over (README: the demo at 7 a.m.).
            account.device, account.device_is_new = issue_two_factor_device(user)
        accounts.append(account)
    return accounts


def is_demo_account(user: User) -> bool:
    return user.email.endswith("@" + DEMO_EMAIL_DOMAIN)
