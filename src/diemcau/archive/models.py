"""The archive: a meeting's recording made into one file, its handover, and the meeting's
materials (R19, R27).

Files live in the `archive` storage (Django's storage API: a folder by default, an
S3-compatible store by setting); rows keep their storage names, sizes and SHA-256. A purge
deletes the files and keeps the rows and their audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from diemcau.mcu.models import McuNode

from .choices import AccessState, MaterialKind, RecordingState, TrackKind


class Recording(models.Model):
    """One meeting's recording, from the first `enable_recording` to the file handed over.

    Who asked for it is the meeting's registration (`recording_requested`); who started and
    stopped it is also in the audit log (`live.record_start`, `live.record_stop`)."""

    meeting = models.OneToOneField(
        "scheduling.Meeting", on_delete=models.PROTECT, related_name="recording"
    )
    node = models.ForeignKey(McuNode, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    janus_room_id = models.PositiveBigIntegerField(null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=RecordingState.choices,
                             default=RecordingState.RECORDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("asked for by"),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("stopped by"),
    )
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    session_ended_at = models.DateTimeField(_("meeting ended at"), null=True, blank=True)

    # Making the file.
    collected_at = models.DateTimeField(_("files collected at"), null=True, blank=True)
    source = models.CharField(_("collected from"), max_length=500, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    processing_seconds = models.FloatField(null=True, blank=True)

    # The file.
    file_name = models.CharField(max_length=500, blank=True)
    thumbnail_name = models.CharField(max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    endpoint_count = models.PositiveIntegerField(_("endpoints"), null=True, blank=True)

    # Handover (ĐN Đ13.3, KH Đ15.3).
    handover_due_at = models.DateTimeField(_("handover due"), null=True, blank=True,
                                           db_index=True)
    handover_warned_at = models.DateTimeField(null=True, blank=True)
    handover_breached_at = models.DateTimeField(_("handover deadline missed at"), null=True,
                                                blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("handed over by"),
    )
    acknowledged_at = models.DateTimeField(_("receipt acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("receipt acknowledged by"),
    )

    # Retention.
    keep_until = models.DateTimeField(_("kept until"), null=True, blank=True, db_index=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")

    def __str__(self) -> str:
        return f"recording of meeting {self.meeting_id}"

    @property
    def stored_bytes(self) -> int:
        return (self.size_bytes or 0) + sum(t.size_bytes for t in self.tracks.all())


class RecordingTrack(models.Model):
    """One file kept beside the meeting's MP4: a Janus `.mjr` as collected, or one
    endpoint's picture or sound on its own (the per-endpoint files)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="tracks")
    kind = models.CharField(max_length=8, choices=TrackKind.choices)
    feed_id = models.PositiveBigIntegerField(_("Janus feed"), null=True, blank=True)
    label = models.CharField(_("endpoint"), max_length=200, blank=True)
    file_name = models.CharField(max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    offset_seconds = models.FloatField(_("starts at (s)"), default=0)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "label", "offset_seconds", "pk"]
        verbose_name = _("recorded track")
        verbose_name_plural = _("recorded tracks")

    def __str__(self) -> str:
        return self.file_name


class Material(models.Model):
    """A document of the meeting uploaded by the host (ĐN Đ5.3, KH Đ5.3)."""

    meeting = models.ForeignKey(
        "scheduling.Meeting", on_delete=models.PROTECT, related_name="materials"
    )
    title = models.CharField(_("title"), max_length=250)
    kind = models.CharField(_("kind"), max_length=10, choices=MaterialKind.choices,
                            default=MaterialKind.OTHER)
    file_name = models.CharField(max_length=500)
    original_name = models.CharField(_("file"), max_length=250)
    content_type = models.CharField(max_length=120)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("meeting material")
        verbose_name_plural = _("meeting materials")

    def __str__(self) -> str:
        return self.title

    @property
    def available(self) -> bool:
        return self.removed_at is None and self.purged_at is None


class AccessRequest(models.Model):
    """Someone outside the meeting asks the host for its materials and recording
    (ĐN Đ13.4, KH Đ15.4)."""

    meeting = models.ForeignKey(
        "scheduling.Meeting", on_delete=models.PROTECT, related_name="access_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    reason = models.TextField(_("what for"))
    state = models.CharField(_("state"), max_length=10, choices=AccessState.choices,
                             default=AccessState.PENDING, db_index=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "requester"], condition=models.Q(state="pending"),
                name="access_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"access to meeting {self.meeting_id} for {self.requester_id}"
