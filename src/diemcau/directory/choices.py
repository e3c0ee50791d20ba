"""Closed vocabularies of the directory. The rulebook maps them to levels, quotas and names."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    PROVINCE_PEOPLE_COMMITTEE = "province_people_committee", _("Provincial People's Committee")
    PROVINCE_PARTY_COMMITTEE = "province_party_committee", _("Provincial Party Committee")
    PROVINCE_PEOPLE_COUNCIL = "province_people_council", _("Provincial People's Council")
    # ĐN Đ3.2a and Đ10.1 name it apart from the People's Council: "Đoàn Đại biểu Quốc hội".
    NATIONAL_ASSEMBLY_DELEGATION = (
        "national_assembly_delegation", _("Provincial National Assembly delegation"))
    PROVINCE_FRONT = "province_front", _("Fatherland Front and socio-political organisation")
    DEPARTMENT = "department", _("Department, board or sector")
    DEPARTMENT_UNIT = "department_unit", _("Unit under a department")
    DISTRICT_PEOPLE_COMMITTEE = "district_people_committee", _("District People's Committee")
    COMMUNE_PEOPLE_COMMITTEE = "commune_people_committee", _("Commune People's Committee")
    COMMUNE_PARTY_COMMITTEE = "commune_party_committee", _("Commune Party Committee")
    OTHER = "other", _("Other agency")


class TerminalKind(models.TextChoices):
    VCS = "vcs", _("VCS hardware terminal")
    PERSONAL = "personal", _("Personal device")


class Network(models.TextChoices):
    TSLCD = "tslcd", _("Government private data network (TSLCD)")
    WAN = "wan", _("Wide area network (WAN)")
    INTERNET = "internet", _("Internet")


class EndpointStatus(models.TextChoices):
    PENDING = "pending", _("Pending evaluation")
    EVALUATED = "evaluated", _("Evaluated")
    APPROVED = "approved", _("Approved, account issued")
    SUSPENDED = "suspended", _("Suspended")
    REJECTED = "rejected", _("Rejected")


# The colour of each admission status on every page and in the dashboard bar (`ui.status`).
ENDPOINT_STATUS_COLOURS = {
    EndpointStatus.PENDING: "secondary",
    EndpointStatus.EVALUATED: "info",
    EndpointStatus.APPROVED: "success",
    EndpointStatus.SUSPENDED: "warning",
    EndpointStatus.REJECTED: "danger",
}


class SecurityCheckResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class SecurityCheckReason(models.TextChoices):
    NEW = "new", _("New device")
    REPAIRED = "repaired", _("Repaired or upgraded device")
    PERIODIC = "periodic", _("Periodic review")


class ContactRole(models.TextChoices):
    LEADER = "leader", _("Office leader")
    TECHNICIAN = "technician", _("Technician")


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the operator")
    APPROVED = "approved", _("Approved and applied")
    REFUSED = "refused", _("Refused")


CHANGE_REQUEST_STATUS_COLOURS = {
    ChangeRequestStatus.PENDING: "warning",
    ChangeRequestStatus.APPROVED: "success",
    ChangeRequestStatus.REFUSED: "danger",
}
