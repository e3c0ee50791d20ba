from __future__ import annotations

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from diemcau.directory.models import Agency, Endpoint
from diemcau.mcu.models import McuNode

from .choices import (
    CheckStatus,
    Classification,
    HoldKind,
    IncidentKind,
    IncidentStatus,
    MailOutcome,
    MeetingStatus,
    MeetingType,
    Recurrence,
    Urgency,
    WindowKind,
)


class MeetingSeries(models.Model):
    """A recurring meeting ("giao ban hằng tuần"); each occurrence is a Meeting with its own
    state, so one week can be refused or cancelled without touching the others."""

    recurrence = models.CharField(_("recurrence"), max_length=10, choices=Recurrence.choices)
    until = models.DateField(_("until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")

    def __str__(self) -> str:
        return f"{self.get_recurrence_display()} → {self.until}"


class Meeting(models.Model):
    """One booked online session (phiên họp trực tuyến), R7."""

    title = models.CharField(_("title"), max_length=250)
    meeting_type = models.CharField(
        _("meeting type"), max_length=20, choices=MeetingType.choices, default=MeetingType.WORKING
    )
    series = models.ForeignKey(
        MeetingSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings"
    )
    host_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="hosted_meetings",
        verbose_name=_("host agency"),
    )
    host_endpoint = models.ForeignKey(
        Endpoint,
        on_delete=models.PROTECT,
        related_name="hosted_meetings",
        verbose_name=_("host endpoint"),
    )
    participants = models.ManyToManyField(
        Endpoint, related_name="meetings", blank=True, verbose_name=_("participant endpoints")
    )
    rehearsal_starts_at = models.DateTimeField(
        _("rehearsal starts"), null=True, blank=True, db_index=True
    )
    rehearsal_ends_at = models.DateTimeField(_("rehearsal ends"), null=True, blank=True)
    starts_at = models.DateTimeField(_("official start"), db_index=True)
    ends_at = models.DateTimeField(_("expected end"))
    place = models.CharField(_("place"), max_length=250)
    contact_name = models.CharField(_("contact person"), max_length=120)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    recording_requested = models.BooleanField(_("recording requested"), default=False)
    support_notes = models.TextField(_("other support requested"), blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    emergency_reason = models.CharField(_("reason for urgency"), max_length=250, blank=True)
    classification = models.CharField(
        _("classification"),
        max_length=20,
        choices=Classification.choices,
        default=Classification.NORMAL,
    )
    invitation = models.FileField(
        _("invitation letter (PDF)"),
        upload_to="invitations/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(["pdf"])],
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=MeetingStatus.choices,
        default=MeetingStatus.DRAFT,
        db_index=True,
    )
    # The server's receipt time is the registration order (KH Đ12.4b).
    registered_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    # KH Đ13.2a: a registration sent to the official mailbox was received when the message
    # arrived there; completed and submitted later, it still counts from that arrival.
    received_by_email_at = models.DateTimeField(_("received by e-mail at"), null=True,
                                                blank=True)
    # When the registration counts from (next office hours for KH Đ13.2a e-mail rule).
    counted_from = models.DateTimeField(_("counted from"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("reply due"), null=True, blank=True, db_index=True)
    reply_warned_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("reply deadline missed at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    # A reason the system gives (a revocation, KH Đ12.4b) is kept as its kind and parameters
    # and read in the reader's language (`scheduling.reasons`); `decision_reason` keeps its
    # text as written at the time, and an operator's or host's own words.
    decision_reason_kind = models.CharField(_("reason kind"), max_length=40, blank=True)
    decision_reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    # With a refusal the operator may propose another time; the copy starts from it.
    proposed_starts_at = models.DateTimeField(_("proposed start"), null=True, blank=True)
    proposed_ends_at = models.DateTimeField(_("proposed end"), null=True, blank=True)
    node = models.ForeignKey(
        McuNode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("MCU node"),
    )
    code = models.CharField(_("meeting code"), max_length=20, null=True, blank=True, unique=True)
    # R23 (ĐN Đ5.4, KH Đ4.1, Đ5.4, Đ16.1): the Government's or a national body's MCU whose
    # session this meeting carries down to the province's endpoints. Such a meeting is hosted
    # upstream: it outranks every provincial meeting where the rulebook ranks by level.
    upstream_uri = models.CharField(
        _("upstream link"), max_length=200, blank=True,
        help_text=_("SIP address of the Government's or a national body's MCU, e.g. "
                    "sip:hoinghi@10.0.0.1. Empty: a meeting of the province."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        # The calendars ask for the meetings of some statuses in a range of starts: one range
        # scan per status (SQLite would otherwise choose the status index alone).
        indexes = [models.Index(fields=["status", "starts_at"], name="meeting_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(rehearsal_starts_at__isnull=True)
                | Q(rehearsal_ends_at__gt=models.F("rehearsal_starts_at")),
                name="meeting_rehearsal_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def hosted_upstream(self) -> bool:
        return bool(self.upstream_uri)


class Booking(models.Model):
    """What an accepted meeting holds while it is accepted or live: one row per endpoint
    and window (endpoint conflicts), and one per window for the MCU node (capacity).

    `holds` is cleared when the meeting is refused, cancelled, revoked or ended, so the
    database constraint on PostgreSQL (no endpoint in two overlapping held windows) and the
    capacity sums only look at rows that hold.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="bookings")
    # A node row holds one window or one technical check (KH Đ12.4a with Đ13.2b); an
    # endpoint's row holds one window.
    kind = models.CharField(max_length=10, choices=HoldKind.choices)
    node = models.ForeignKey(McuNode, on_delete=models.PROTECT, related_name="bookings")
    # None: the node row of the window (capacity); set: that endpoint's row (conflicts).
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    endpoints_count = models.PositiveIntegerField(default=0)
    # On the node's rows: the meeting needs one of the node's mixers (R24, R25).
    needs_mixer = models.BooleanField(default=False)
    holds = models.BooleanField(default=True)

    class Meta:
        # Partial indexes on the held rows: SQLite does not use a composite index through a
        # boolean compared as a bare column, so the condition lives in the index instead.
        indexes = [
            models.Index(fields=["node", "starts_at", "ends_at"], condition=Q(holds=True),
                         name="booking_held_node_window"),
            models.Index(fields=["endpoint", "starts_at", "ends_at"], condition=Q(holds=True),
                         name="booking_held_endpoint_window"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.kind} {self.starts_at:%Y-%m-%d %H:%M}"


class TechnicalCheck(models.Model):
    """Readiness of one endpoint before the rehearsal or the session (R15)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="checks")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="checks")
    kind = models.CharField(_("before"), max_length=10, choices=WindowKind.choices)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CheckStatus.choices, default=CheckStatus.SCHEDULED
    )
    results = models.JSONField(_("checklist"), default=dict, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "endpoint__name"]
        verbose_name = _("technical check")
        verbose_name_plural = _("technical checks")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "endpoint", "kind"], name="technicalcheck_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.endpoint_id}/{self.kind}: {self.status}"


class Incident(models.Model):
    """A technical problem tracked by the operator to closure (R15, R16)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="incidents")
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    technical_check = models.ForeignKey(
        TechnicalCheck,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
    )
    description = models.TextField(_("description"))
    kind = models.CharField(
        _("kind of incident"), max_length=12, choices=IncidentKind.choices, blank=True,
        default="",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=IncidentStatus.choices,
        default=IncidentStatus.OPEN,
        db_index=True,
    )
    resolution = models.TextField(_("resolution"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class CalendarFeed(models.Model):
    """A secret URL token that serves one agency's accepted schedule as ICS (R14). Only the
    token's hash is kept; revoking it stops the feed."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.agency} feed #{self.pk}"


class OfficialAddress(models.Model):
    """An agency's official e-mail address (thư điện tử công vụ, KH Đ13.2a): a message to the
    system's mailbox from it becomes a draft registration of that agency."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="official_addresses",
                               verbose_name=_("agency"))
    address = models.EmailField(_("official e-mail address"), unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        verbose_name = _("official e-mail address")
        verbose_name_plural = _("official e-mail addresses")

    def __str__(self) -> str:
        return self.address


class MailedRegistration(models.Model):
    """One message read from the system's official mailbox (KH Đ13.2a), and what became of it:
    a draft registration of the sender's agency, or why not."""

    message_id = models.CharField(max_length=250, unique=True)
    sender = models.EmailField(_("sender"))
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("message"), blank=True)
    # The mailbox's own receipt time (IMAP INTERNALDATE): when the registration arrived.
    received_at = models.DateTimeField(_("received at"), db_index=True)
    # What the sender's mail program wrote in its Date header, for the record.
    dated = models.DateTimeField(_("dated"), null=True, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("agency"))
    meeting = models.OneToOneField(Meeting, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="mailed_registration")
    outcome = models.CharField(_("outcome"), max_length=20, choices=MailOutcome.choices)
    attachments = models.JSONField(default=list, blank=True)
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("registration by e-mail")
        verbose_name_plural = _("registrations by e-mail")

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"
