from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from diemcau.mcu.models import McuNode


class Layout(models.TextChoices):
    """What the composed picture shows to hardware terminals and the upstream MCU (R25,
    ĐN Đ12.2b, KH Đ14.3b: "điều chỉnh khung hình hiển thị"); the main picture is the room's
    spotlight, else the active speaker."""

    GRID = "grid", _("Grid")
    SPEAKER = "speaker", _("Main speaker large")
    SINGLE = "single", _("Main picture only")


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
    layout = models.CharField(_("layout"), max_length=10, choices=Layout.choices,
                              default=Layout.GRID)

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


# A connection lost this recently, or while its node is down, is shown as reconnecting: its
# page joins again by itself as soon as the node answers (`media.watch`).
RECONNECT_WINDOW = dt.timedelta(seconds=60)


class Presence(models.TextChoices):
    """Where an invited endpoint stands in the live meeting (the consoles' list of every
    invited endpoint, R18). Not stored: read from its participations."""

    IN_ROOM = "in_room", _("In the room")
    CONNECTING = "connecting", _("Connecting")
    # Its line was lost moments ago, or its media node is down: its page joins again by
    # itself (media.watch tells it as soon as the node answers).
    RECONNECTING = "reconnecting", _("Reconnecting")
    LEFT = "left", _("Left the room")
    LOST = "lost", _("Connection lost")
    REMOVED = "removed", _("Removed by the host")
    ABSENT = "absent", _("Not joined yet")


PRESENCE_COLOURS = {
    Presence.IN_ROOM: "success",
    Presence.CONNECTING: "info",
    Presence.RECONNECTING: "warning",
    Presence.LEFT: "secondary",
    Presence.LOST: "warning",
    Presence.REMOVED: "danger",
    Presence.ABSENT: "light",
}


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


class Transport(models.TextChoices):
    BROWSER = "browser", _("Browser (WebRTC)")
    SIP = "sip", _("Hardware terminal (SIP)")


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
    # A SIP leg (R24) is a participation like any other; its `janus_id` is the feed id of the
    # remote publisher that carries the terminal's picture and sound into the room.
    transport = models.CharField(_("connected by"), max_length=10, choices=Transport.choices,
                                 default=Transport.BROWSER)
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

    @property
    def media_flowing(self) -> bool:
        """Joined, and its page reported its media up (Janus's `webrtcup`), or a SIP leg
        (its mids are set when it answers): what the consoles call connected."""
        return self.is_connected and bool(self.audio_mid or self.video_mid)


class CallKind(models.TextChoices):
    TERMINAL = "terminal", _("Hardware terminal")
    UPSTREAM = "upstream", _("Upstream MCU")


class CallDirection(models.TextChoices):
    OUT = "out", _("Called by the MCU")
    IN = "in", _("Called the meeting")


class CallState(models.TextChoices):
    REQUESTED = "requested", _("Waiting to call")
    CALLING = "calling", _("Calling")
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("In the meeting")
    ENDED = "ended", _("Ended")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


ACTIVE_CALL_STATES = (CallState.REQUESTED, CallState.CALLING, CallState.RINGING,
                      CallState.ANSWERED)
FINAL_CALL_STATES = (CallState.ENDED, CallState.BUSY, CallState.FAILED, CallState.REFUSED)

# The colour of each call state on the consoles (`ui.status`).
CALL_STATE_COLOURS = {
    CallState.REQUESTED: "secondary",
    CallState.CALLING: "info",
    CallState.RINGING: "warning",
    CallState.ANSWERED: "success",
    CallState.ENDED: "light",
    CallState.BUSY: "warning",
    CallState.FAILED: "danger",
    CallState.REFUSED: "danger",
}


class SipCall(models.Model):
    """One SIP call of a meeting (R23, R24): the MCU dialling an invited endpoint's VCS
    (KH Đ11.7) or the upstream MCU, or a terminal dialling the meeting. The database is the
    truth: the node's mixer agent (`diemcau mixer run`) dials what is requested here, hangs
    up what is asked to hang up, and reports each state back through `services.sip`.

        requested → calling → ringing → answered → ended
                         └────────┴─────→ busy | failed | refused

    An answered terminal becomes a participation (its attendance, its microphone). The
    upstream MCU has no endpoint and no participation: it enters the room as a picture named
    by the rulebook.
    """

    meeting = models.ForeignKey(
        "scheduling.Meeting", on_delete=models.CASCADE, related_name="sip_calls"
    )
    node = models.ForeignKey(McuNode, on_delete=models.PROTECT, related_name="sip_calls")
    endpoint = models.ForeignKey(
        "directory.Endpoint", on_delete=models.PROTECT, null=True, blank=True,
        related_name="sip_calls",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CallKind.choices,
                            default=CallKind.TERMINAL)
    direction = models.CharField(_("direction"), max_length=3, choices=CallDirection.choices,
                                 default=CallDirection.OUT)
    # An upstream link test before the session (KH Đ16.1): hung up once it answers.
    is_test = models.BooleanField(_("link test"), default=False)
    remote_uri = models.CharField(_("SIP address"), max_length=200)
    source_address = models.GenericIPAddressField(_("called from"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices,
                             default=CallState.REQUESTED, db_index=True)
    sip_code = models.PositiveSmallIntegerField(_("SIP code"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    participation = models.OneToOneField(
        Participation, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="sip_call",
    )
    # The remote publisher that carries the far end into the room, once answered.
    feed = models.PositiveBigIntegerField(_("room feed"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    hangup_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        verbose_name = _("SIP call")
        verbose_name_plural = _("SIP calls")
        indexes = [models.Index(fields=["node", "state"], name="sipcall_node_state")]
        constraints = [
            # One call at a time per endpoint and meeting, and one upstream link: a second
            # click on "Call" cannot ring the terminal twice.
            models.UniqueConstraint(
                fields=["meeting", "endpoint"],
                condition=models.Q(state__in=[s.value for s in ACTIVE_CALL_STATES],
                                   endpoint__isnull=False),
                name="sipcall_one_active_per_endpoint",
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=models.Q(state__in=[s.value for s in ACTIVE_CALL_STATES],
                                   kind="upstream"),
                name="sipcall_one_active_upstream",
            ),
        ]

    def __str__(self) -> str:
        return f"SIP call {self.pk} ({self.direction}) {self.remote_uri}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_CALL_STATES

    @property
    def leg_id(self) -> str:
        """The mixer's name for this call's leg."""
        return f"call-{self.pk}"
