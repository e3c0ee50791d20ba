from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the application")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook (Zalo/Telegram bridge)")
    # Not a channel a person receives on: one row written in a service's transaction that the
    # worker expands, after the commit, into the recipients' rows (`services.notify_later`).
    FAN_OUT = "fan_out", _("To be sent to its recipients")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed for good")


class KindGroup(models.TextChoices):
    """What people choose channels for: kinds of messages grouped as a person thinks of them."""

    DECISIONS = "decisions", _("Decisions on meetings (accepted, refused, cancelled, revoked)")
    REGISTRATIONS = "registrations", _("New meeting registrations to decide")
    DEADLINES = "deadlines", _("Reply deadlines (due soon, overdue)")
    INCIDENTS = "incidents", _("Technical incidents")
    OTHER = "other", _("Other messages")


# kind → group; a kind not listed here belongs to OTHER.
KIND_GROUPS: dict[str, KindGroup] = {
    "meeting.accepted": KindGroup.DECISIONS,
    "meeting.refused": KindGroup.DECISIONS,
    "meeting.cancelled": KindGroup.DECISIONS,
    "meeting.revoked": KindGroup.DECISIONS,
    "meeting.free_slots": KindGroup.DECISIONS,
    "meeting.submitted": KindGroup.REGISTRATIONS,
    "meeting.reply_due_soon": KindGroup.DEADLINES,
    "meeting.reply_overdue": KindGroup.DEADLINES,
    "incident.opened": KindGroup.INCIDENTS,
}


def group_of(kind: str) -> KindGroup:
    if kind in KIND_GROUPS:
        return KIND_GROUPS[kind]
    # New kinds of a known family ("incident.closed") follow their family.
    family = kind.split(".", 1)[0]
    if family == "incident":
        return KindGroup.INCIDENTS
    return KindGroup.OTHER


# What a person receives before choosing: in-app always; e-mail for the decisions on their
# meetings (they act on those, often away from the screen); the webhook only when asked for.
DEFAULT_EMAIL: frozenset[KindGroup] = frozenset({KindGroup.DECISIONS})
DEFAULT_WEBHOOK: frozenset[KindGroup] = frozenset()


class Notification(models.Model):
    """One message to one user on one channel: the outbox row is written in the service's
    transaction and delivered by the worker, so a channel that is down loses nothing."""

    # Empty for a message to an outside party that is no one's account, sent to `address`:
    # the answer to a registration sent by an agency's official e-mail (KH Đ13.2a), or a line
    # incident sent to its provider by e-mail or to its own webhook URL (ĐN Đ12.2d, KH Đ14.3d).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
        null=True, blank=True,
    )
    address = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.IN_APP)
    kind = models.CharField(max_length=60, db_index=True)
    # The text as last rendered: in the default language when queued, then as sent to the
    # person (their language, without secrets when it leaves the system). Shown again, the
    # text is rendered anew from `kind` and `params` (`kinds.render`).
    subject = models.CharField(max_length=250)
    body = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=250, blank=True)
    meeting_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The bell's unread count, on every page.
            models.Index(fields=["user", "channel", "read_at"], name="notification_unread"),
            # The worker's sweep for due deliveries.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.address} {self.channel} {self.kind}"

    def text(self, *, outside: bool) -> Any:
        """The message rendered now, in the active language (see `kinds.render`)."""
        from .kinds import Text, render

        return render(self.kind, self.params, outside=outside,
                      fallback=Text(self.subject, self.body))


class NotificationAttachment(models.Model):
    """A file sent with an e-mail (a meeting's ICS), handed over by the app that sends the
    message: this app knows nothing of what it contains."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.filename


class NotificationPreference(models.Model):
    """Which outside channels one person wants for one group of messages. No row means the
    defaults (DEFAULT_EMAIL, DEFAULT_WEBHOOK); in-app messages are always kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    group = models.CharField(_("messages"), max_length=20, choices=KindGroup.choices)
    email = models.BooleanField(_("e-mail"))
    webhook = models.BooleanField(_("webhook"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="notificationpreference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.group}: email={self.email} webhook={self.webhook}"
