"""The archive's statuses and kinds (R19, R27)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordingState(models.TextChoices):
    RECORDING = "recording", _("Recording")
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    HANDED_OVER = "handed_over", _("Handed over")
    PURGED = "purged", _("Purged")


RECORDING_STATE_COLOURS = {
    RecordingState.RECORDING: "danger",
    RecordingState.PROCESSING: "info",
    RecordingState.READY: "primary",
    RecordingState.FAILED: "warning",
    RecordingState.HANDED_OVER: "success",
    RecordingState.PURGED: "secondary",
}

# States in which the MP4 exists and may be played.
PLAYABLE_STATES = (RecordingState.READY, RecordingState.HANDED_OVER)


class TrackKind(models.TextChoices):
    RAW = "raw", _("Janus recording (.mjr)")
    AUDIO = "audio", _("Sound of one endpoint")
    VIDEO = "video", _("Picture of one endpoint")


class MaterialKind(models.TextChoices):
    AGENDA = "agenda", _("Agenda")
    REPORT = "report", _("Report")
    SLIDES = "slides", _("Slides")
    OTHER = "other", _("Other document")


class AccessState(models.TextChoices):
    PENDING = "pending", _("Waiting for the host")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


ACCESS_STATE_COLOURS = {
    AccessState.PENDING: "warning",
    AccessState.APPROVED: "success",
    AccessState.REFUSED: "danger",
}
