from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    AgencyKind,
    ContactRole,
    EndpointStatus,
    Network,
    SecurityCheckReason,
    SecurityCheckResult,
    TerminalKind,
)


class Agency(models.Model):
    """An organisation with conference rooms: UBND tỉnh, a Sở, a UBND xã… (R1).

    Its level (province, district, commune…) is not stored: the active rulebook derives it
    from `kind`, because the two regulations put the same kind on different levels.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices)
    abbreviation = models.CharField(
        _("abbreviation"),
        max_length=40,
        blank=True,
        help_text=_("Used in endpoint names, e.g. So.TTTT for a department, NT for Nha Trang."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # Materialized path "/1/7/42/" so that "this agency and its subordinates" is one query.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="/")
    admin_code = models.PositiveIntegerField(
        _("administrative unit code"), null=True, blank=True, unique=True
    )
    division_type = models.CharField(_("division type"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="agency_unique_name_per_parent")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")


class QuotaException(models.Model):
    """Extra endpoints approved by UBND tỉnh beyond the quota (KH Đ8, last paragraph)."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="quota_exceptions", verbose_name=_("agency")
    )
    extra_endpoints = models.PositiveSmallIntegerField(_("extra endpoints"))
    decision_reference = models.CharField(_("approving decision"), max_length=120)
    decided_on = models.DateField(_("decided on"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("quota exception")
        verbose_name_plural = _("quota exceptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(extra_endpoints__gte=1), name="quota_exception_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} +{self.extra_endpoints} ({self.decision_reference})"


class Endpoint(models.Model):
    """A conference room (điểm cầu) or an admitted personal device of an agency (R2)."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="endpoints", verbose_name=_("agency")
    )
    name = models.CharField(_("device name"), max_length=120, unique=True)
    terminal_kind = models.CharField(
        _("terminal kind"), max_length=20, choices=TerminalKind.choices
    )
    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    bandwidth_mbps = models.DecimalField(_("bandwidth (Mbps)"), max_digits=7, decimal_places=1)
    dedicated_line = models.BooleanField(
        _("dedicated line"),
        default=False,
        help_text=_("The line is not shared with other systems during meetings."),
    )
    vcs_ip = models.GenericIPAddressField(_("VCS IP address"), null=True, blank=True)
    # R24: a terminal that calls a meeting is known by its address or by this account.
    sip_uri = models.CharField(
        _("SIP account"), max_length=200, null=True, blank=True, unique=True,
        help_text=_("The terminal's SIP address (sip:user@host), when it calls from an "
                    "address other than its VCS IP or through a registrar."),
    )
    location = models.CharField(_("room location"), max_length=200, blank=True)
    room_meets_standard = models.BooleanField(_("room meets the standard"), default=False)
    room_notes = models.TextField(_("room notes"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EndpointStatus.choices,
        default=EndpointStatus.PENDING,
        db_index=True,
    )
    status_reason = models.TextField(_("reason of the last status change"), blank=True)
    security_check_due = models.BooleanField(
        _("security check due"),
        default=True,
        help_text=_("New, repaired or upgraded devices need a security check before use."),
    )
    account_username = models.CharField(
        _("account"), max_length=120, blank=True, null=True, unique=True
    )
    account_password_hash = models.CharField(max_length=200, blank=True)
    account_issued_at = models.DateTimeField(_("account issued at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agency__path", "name"]
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")
        constraints = [
            models.CheckConstraint(
                condition=Q(bandwidth_mbps__gt=0), name="endpoint_bandwidth_gt_0"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Evaluation(models.Model):
    """The operator's evaluation of an endpoint's technical conditions (KH Đ9.3, R5)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="evaluations")
    passed = models.BooleanField(_("passed"))
    room_ok = models.BooleanField(_("room meets the standard"))
    power_ok = models.BooleanField(_("stable and backup power"))
    connection_ok = models.BooleanField(_("connection and bandwidth"))
    av_ok = models.BooleanField(_("sound, light and picture"))
    remarks = models.TextField(_("remarks"), blank=True)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_at"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.evaluated_at:%Y-%m-%d} {'+' if self.passed else '-'}"


class SecurityCheck(models.Model):
    """A security check of a device with the provincial police (ĐN Đ8.3c, Đ16.5)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="security_checks")
    reason = models.CharField(_("reason"), max_length=20, choices=SecurityCheckReason.choices)
    result = models.CharField(_("result"), max_length=20, choices=SecurityCheckResult.choices)
    checked_on = models.DateField(_("checked on"))
    police_reference = models.CharField(_("police reference"), max_length=120, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_on", "-recorded_at"]
        verbose_name = _("security check")
        verbose_name_plural = _("security checks")

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.checked_on} {self.result}"


class Contact(models.Model):
    """A person responsible for an endpoint (R6). Replacing one ends it, so history remains."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices)
    full_name = models.CharField(_("full name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=20)
    email = models.EmailField(_("email"), blank=True)
    trained_on = models.DateField(_("trained on"), null=True, blank=True)
    active_from = models.DateTimeField(_("from"))
    active_until = models.DateTimeField(_("until"), null=True, blank=True)
    change_reason = models.CharField(_("reason for the change"), max_length=200, blank=True)

    class Meta:
        ordering = ["role", "-active_from"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "role"],
                condition=Q(active_until__isnull=True),
                name="contact_one_current_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_role_display()})"

    @property
    def is_current(self) -> bool:
        return self.active_until is None
