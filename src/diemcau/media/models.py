from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from diemcau.mcu.models import McuNode


class Room(models.Model):
    """The VideoRoom of one meeting on its node. The database is the source of truth: Janus
    keeps rooms in memory only, and `reconcile` recreates them after a restart.

    The PIN and the room secret are known only to the server (R13, R22); their field names
    keep them out of audit snapshots.
    """

    meeting = models.OneToOneField(
        "scheduling.Meeting", on_delete=models.CASCADE, related_name="room"
    )
    node = models.ForeignKey(McuNode, on_delete=models.PROTECT, related_name="rooms")
    janus_room_id = models.PositiveBigIntegerField(_("Janus room id"))
    room_pin = models.CharField(max_length=64)
    room_secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    # When Janus last confirmed creating it (again, after a restart).
    janus_created_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    # Live state set by the host's controls (R16).
    locked = models.BooleanField(_("locked"), default=False)
    recording = models.BooleanField(_("recording"), default=False)
    recording_started_at = models.DateTimeField(null=True, blank=True)
    spotlight = models.ForeignKey(
        "Participation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("main picture"),
    )

    class Meta:
        verbose_name = _("meeting room")
        verbose_name_plural = _("meeting rooms")
        constraints = [
            models.UniqueConstraint(fields=["node", "janus_room_id"], name="room_unique_on_node")
        ]

    def __str__(self) -> str:
        return f"room {self.janus_room_id} on {self.node_id}"


class JoinLink(models.Model):
    """A signed, expiring, revocable link with which one endpoint joins one meeting without
    logging in (a room PC or an admitted personal device). Only a hash of its secret part is
    stored; the signature makes a tampered link fail before the database is asked."""

    meeting = models.ForeignKey(
        "scheduling.Meeting", on_delete=models.CASCADE, related_name="join_links"
    )
    endpoint = models.ForeignKey(
        "directory.Endpoint", on_delete=models.CASCADE, related_name="join_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("join link")
        verbose_name_plural = _("join links")

    def __str__(self) -> str:
        return f"join link {self.pk} for {self.endpoint_id} in meeting {self.meeting_id}"


class LeaveReason(models.TextChoices):
    LEFT = "left", _("Left")
    KICKED = "kicked", _("Removed by the host")
    ENDED = "ended", _("Meeting ended")
    LOST = "lost", _("Connection lost")


class Quality(models.TextChoices):
    UNKNOWN = "unknown", _("Not measured yet")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


# The colour of each line quality on the consoles and the room page (`ui.status`).
QUALITY_COLOURS = {
    Quality.UNKNOWN: "secondary",
    Quality.GOOD: "success",
    Quality.FAIR: "warning",
    Quality.POOR: "danger",
}


class Participation(models.Model):
    """One endpoint connected to one meeting, from join to leave: the attendance record (R18)
    and the live state the host controls (R16). A reconnection is a new row, so join and
    leave times stay exact.

    The Janus token and the participant's own access key are secrets (R22): their field names
    keep them out of audit snapshots, and the key is stored only as a hash.
    """

    meeting = models.ForeignKey(
        "scheduling.Meeting", on_delete=models.CASCADE, related_name="participations"
    )
    endpoint = models.ForeignKey(
        "directory.Endpoint", on_delete=models.PROTECT, related_name="participations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    join_link = models.ForeignKey(
        JoinLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    node = models.ForeignKey(McuNode, on_delete=models.PROTECT, related_name="+")
    display = models.CharField(_("shown as"), max_length=160)
    janus_id = models.PositiveBigIntegerField(_("Janus participant id"))
    key_hash = models.CharField(max_length=64, unique=True)
    janus_token_secret = models.CharField(max_length=64)
    janus_session_id = models.PositiveBigIntegerField(null=True, blank=True)
    janus_handle_id = models.PositiveBigIntegerField(null=True, blank=True)
    audio_mid = models.CharField(max_length=16, blank=True)
    video_mid = models.CharField(max_length=16, blank=True)

    granted_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(_("joined at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    left_reason = models.CharField(
        _("left because"), max_length=10, choices=LeaveReason.choices, blank=True
    )

    # What the host controls and the participant asks for (KH Đ11.6: joins muted).
    audio_muted = models.BooleanField(_("microphone muted"), default=True)
    video_muted = models.BooleanField(_("camera stopped"), default=False)
    hand_raised_at = models.DateTimeField(_("asked to speak at"), null=True, blank=True)
    has_floor = models.BooleanField(_("has the floor"), default=False)

    # What the endpoint reports (R18): its attendees and its connection.
    attendee_count = models.PositiveIntegerField(_("attendees"), null=True, blank=True)
    attendee_count_at = models.DateTimeField(null=True, blank=True)
    quality = models.CharField(
        _("connection"), max_length=10, choices=Quality.choices, default=Quality.UNKNOWN
    )
    rtt_ms = models.PositiveIntegerField(null=True, blank=True)
    loss_percent = models.FloatField(null=True, blank=True)
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True)
    quality_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["granted_at"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        indexes = [
            models.Index(fields=["meeting", "left_at"], name="participation_meeting_open"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "janus_id"], name="participation_unique_janus_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display} in meeting {self.meeting_id}"

    @property
    def is_connected(self) -> bool:
        return self.joined_at is not None and self.left_at is None
