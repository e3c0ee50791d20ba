from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    AgencyKind,
    ChangeRequestStatus,
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
    """A conference room (điểm cầu) or an admitted personal device of an agency (R2).

    The endpoint is what a meeting books and invites, what the quota counts (KH Đ8) and what
    attendance is taken of. Its own terminal is the room's first device; further devices of
    the same room are `Device` rows (KH Đ6.4: "Trường hợp tại một điểm cầu có nhiều thiết bị
    cùng kết nối … UBND.Nha Trang.01; UBND.Nha Trang.02").
    """

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
    # Set by the operator's latest evaluation: every item met, the control-only ones too
    # (KH Đ10.2: the standard and one working laptop; ĐN Đ9.2: Đ6 khoản 1–5). Only such a
    # room is given control rights.
    meets_control_requirements = models.BooleanField(
        _("meets the requirements for control rights"), default=False
    )
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


class Device(models.Model):
    """A further device of a room that connects to meetings beside the room's own terminal.

    KH Đ6.4: "Trường hợp tại một điểm cầu có nhiều thiết bị cùng kết nối …, tên của các thiết
    bị được phân biệt bằng các chữ số thêm vào sau tên điểm cầu, ví dụ: UBND.Nha Trang.01;
    UBND.Nha Trang.02". KH Đ8 counts điểm cầu (rooms), so a device is not counted by the quota;
    the room is still what meetings book.
    """

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="devices", verbose_name=_("room")
    )
    name = models.CharField(_("device name"), max_length=120, unique=True)
    terminal_kind = models.CharField(
        _("terminal kind"), max_length=20, choices=TerminalKind.choices
    )
    vcs_ip = models.GenericIPAddressField(_("VCS IP address"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return self.name


class EndpointChangeRequest(models.Model):
    """An agency's change to an admitted endpoint's parameters, waiting for the operator.

    ĐN Đ6.6, KH Đ11.5: "Không thay đổi, cài đặt lại các thông số liên quan đến thiết bị đầu
    cuối khi chưa có sự đồng ý của …" the operating unit. `changes` holds the new values of
    the fields that change, `previous` what they were when the request was made.
    """

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="change_requests",
        verbose_name=_("endpoint"),
    )
    changes = models.JSONField(_("requested changes"))
    previous = models.JSONField(_("values before"))
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING, db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("endpoint change request")
        verbose_name_plural = _("endpoint change requests")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=Q(status=ChangeRequestStatus.PENDING),
                name="change_request_one_pending_per_endpoint",
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.requested_at:%Y-%m-%d} {self.status}"


class Evaluation(models.Model):
    """The operator's evaluation of an endpoint's technical conditions (KH Đ9.3, R5): one
    answer per item of the rulebook's room standard (`room_standard.items`)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="evaluations")
    # Every item a room must meet passed (control-only items aside, KH Đ10.2b).
    passed = models.BooleanField(_("passed"))
    remarks = models.TextField(_("remarks"), blank=True)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_at"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.evaluated_at:%Y-%m-%d} {'+' if self.passed else '-'}"


class EvaluationAnswer(models.Model):
    """One item of the room standard as the operator found it. The item's article and text
    are kept as they read then, so an old evaluation stays readable when the rulebook moves."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="answers")
    item_key = models.CharField(_("item"), max_length=60)
    article = models.CharField(_("article"), max_length=60, blank=True)
    text_vi = models.TextField(_("item (Vietnamese)"))
    text_en = models.TextField(_("item (English)"), blank=True)
    control_only = models.BooleanField(_("only for control rights"), default=False)
    met = models.BooleanField(_("met"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("evaluation answer")
        verbose_name_plural = _("evaluation answers")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "item_key"], name="evaluation_answer_one_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_key}: {'+' if self.met else '-'}"


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
