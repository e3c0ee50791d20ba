from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, waiting for the operator")
    ACCEPTED = "accepted", _("Accepted, code issued")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")
    REVOKED = "revoked", _("Code revoked")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


# The colour of each meeting status: badges, calendar, legend and live consoles (`ui.status`).
MEETING_STATUS_COLOURS = {
    MeetingStatus.DRAFT: "secondary",
    MeetingStatus.SUBMITTED: "warning",
    MeetingStatus.ACCEPTED: "primary",
    MeetingStatus.LIVE: "success",
    MeetingStatus.ENDED: "light",
    MeetingStatus.REFUSED: "danger",
    MeetingStatus.CANCELLED: "dark",
    MeetingStatus.REVOKED: "info",
}

# Meetings that hold MCU capacity and endpoints.
HOLDING_STATUSES = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE)


class RefusalReason(models.TextChoices):
    """The operator's usual reasons for a refusal, picked instead of typed (a note may follow)."""

    CAPACITY = "capacity", _("The MCU has no free capacity at this time.")
    ENDPOINT_BUSY = "endpoint_busy", _("An endpoint of the meeting is booked at this time.")
    TOO_LATE = "too_late", _("The registration came after the lead time for this meeting.")
    INCOMPLETE = "incomplete", _("The registration is incomplete or its details are wrong.")
    PRIORITY = "priority", _("A meeting of a higher-level body takes this time.")
    MAINTENANCE = "maintenance", _("The system is under maintenance at this time.")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent (đột xuất)")
    EMERGENCY = "emergency", _("Emergency (disaster, epidemic, fire, central directive)")


class Classification(models.TextChoices):
    NORMAL = "normal", _("Normal")
    INTERNAL = "internal", _("Internal")
    STATE_SECRET = "state_secret", _("State secret")


class MeetingType(models.TextChoices):
    # QĐ 45/2018/QĐ-TTg Đ7.2, to which ĐN Đ4.2 and KH Đ4.2 refer.
    THEMATIC = "thematic", _("Thematic meeting")
    BRIEFING = "briefing", _("Regular briefing (giao ban)")
    ADVISORY = "advisory", _("Advisory meeting")
    TRAINING = "training", _("Training or deployment")
    WORKING = "working", _("Working meeting")
    OTHER = "other", _("Other")


class Recurrence(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class WindowKind(models.TextChoices):
    REHEARSAL = "rehearsal", _("Rehearsal")
    SESSION = "session", _("Official session")


class CheckStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PASSED = "passed", _("Ready")
    FAILED = "failed", _("Not ready")


CHECK_STATUS_COLOURS = {
    CheckStatus.SCHEDULED: "secondary",
    CheckStatus.PASSED: "success",
    CheckStatus.FAILED: "danger",
}


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("Being fixed")
    CLOSED = "closed", _("Closed")


INCIDENT_STATUS_COLOURS = {
    IncidentStatus.OPEN: "danger",
    IncidentStatus.IN_PROGRESS: "warning",
    IncidentStatus.CLOSED: "success",
}


class CheckItem(models.TextChoices):
    """The checklist of a technical check, in the words of ĐN Đ11.2c and KH Đ13.2c; the
    rulebook says which items apply (`technical_check.items`)."""

    TERMINAL = "terminal", _("Terminal")
    POWER = "power", _("Power")
    BACKUP_POWER = "backup_power", _("Backup power")
    SOUND = "sound", _("Sound")
    LIGHT = "light", _("Light")
    PICTURE = "picture", _("Picture")
    CONNECTION = "connection", _("Connection")


def check_item_label(item: str) -> str:
    return str(CheckItem(item).label) if item in CheckItem.values else item


class MailOutcome(models.TextChoices):
    """What a message to the official mailbox became (KH Đ13.2a)."""

    DRAFT = "draft", _("Draft registration made")
    UNKNOWN_SENDER = "unknown_sender", _("Not from a known official address")
    NO_ENDPOINT = "no_endpoint", _("The agency has no endpoint in use")


MAIL_OUTCOME_COLOURS = {
    MailOutcome.DRAFT: "success",
    MailOutcome.UNKNOWN_SENDER: "secondary",
    MailOutcome.NO_ENDPOINT: "warning",
}
