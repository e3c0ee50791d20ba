"""What the live consoles show, read from the database in a few queries (R16, R18).

The same dictionaries go to the pages (first render) and over the WebSockets (every change),
so a console that reconnects shows exactly what one that never left shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from diemcau.core.models import User
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Incident, Meeting
from diemcau.scheduling.permissions import can_see_code
from diemcau.scheduling.planning import hardware_endpoints
from diemcau.scheduling.rules import recording_refusal

from . import extensions
from .models import (
    ACTIVE_CALL_STATES,
    CallKind,
    CallState,
    Layout,
    LeaveReason,
    Participation,
    Presence,
    Quality,
    Room,
    SipCall,
)
from .permissions import can_control, control_refusal, is_operator


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def participant_row(p: Participation) -> dict[str, Any]:
    return {
        "id": p.pk,
        "janus_id": p.janus_id,
        "endpoint": p.endpoint.name,
        "agency": p.endpoint.agency.name,
        "device": p.endpoint.terminal_kind,
        "display": p.display,
        "is_host": p.endpoint_id == p.meeting.host_endpoint_id,
        "transport": p.transport,
        "connected": p.joined_at is not None,
        "joined_at": _iso(p.joined_at),
        "audio_muted": p.audio_muted,
        "video_muted": p.video_muted,
        "has_floor": p.has_floor,
        "hand_raised_at": _iso(p.hand_raised_at),
        "attendee_count": p.attendee_count,
        "quality": p.quality,
        "quality_label": str(Quality(p.quality).label),
        "rtt_ms": p.rtt_ms,
        "loss_percent": None if p.loss_percent is None else round(p.loss_percent, 1),
        "bitrate_kbps": p.bitrate_kbps,
    }


def open_participations(meeting: Meeting) -> list[Participation]:
    return list(
        Participation.objects.select_related("endpoint__agency", "meeting")
        .filter(meeting=meeting, left_at__isnull=True)
        .order_by("granted_at", "pk")
    )


def live_state(meeting: Meeting, *, user: User | None = None) -> dict[str, Any]:
    """The host console's view: who is connected and how, the queue, the room's state."""
    meeting = Meeting.objects.select_related("host_endpoint", "node").get(pk=meeting.pk)
    room = Room.objects.filter(meeting=meeting, destroyed_at__isnull=True).first()
    rows = [participant_row(p) for p in open_participations(meeting)]
    queue = sorted(
        (r for r in rows if r["hand_raised_at"]), key=lambda r: (r["hand_raised_at"], r["id"])
    )
    refusal = recording_refusal(meeting)
    invited = meeting.participants.count() + (1 if meeting.host_endpoint_id else 0)
    sip = sip_state(meeting, user=user)
    return {
        "meeting": {
            "id": meeting.pk,
            "title": meeting.title,
            "status": meeting.status,
            "status_label": str(meeting.get_status_display()),
            "starts_at": _iso(meeting.starts_at),
            "ends_at": _iso(meeting.ends_at),
            "node": meeting.node.name if meeting.node else None,
            "room_open": room is not None,
            "locked": bool(room and room.locked),
            "recording": bool(room and room.recording),
            "recording_allowed": refusal is None,
            "recording_refusal": str(refusal) if refusal else "",
            "spotlight": room.spotlight.janus_id if room and room.spotlight else None,
            "layout": room.layout if room else Layout.GRID,
            "invited": invited,
            "open_incidents": Incident.objects.filter(meeting=meeting, status="open").count(),
        },
        "participants": rows,
        "queue": [r["id"] for r in queue],
        "invited_endpoints": presence_rows(meeting, calls={
            t["endpoint_id"]: t["call"] for t in sip["sip"]["terminals"]}),
        **sip,
        # KH Đ10.2, ĐN Đ9.2: no controls while the controlling room lacks its evaluation.
        "can_control": bool(user and can_control(user, meeting)
                            and control_refusal(user, meeting) is None),
        "extras": extensions.console_extras(meeting, user),
        "at": timezone.now().isoformat(),
    }


def invited_endpoints(meeting: Meeting) -> list[Endpoint]:
    """The host's endpoint first, then the invited ones by name."""
    ids = set(meeting.participants.values_list("pk", flat=True))
    if meeting.host_endpoint_id:
        ids.add(meeting.host_endpoint_id)
    endpoints = Endpoint.objects.filter(pk__in=ids).select_related("agency")
    return sorted(endpoints, key=lambda e: (e.pk != meeting.host_endpoint_id, e.name))


def presences(meeting: Meeting) -> dict[int, tuple[Presence, Participation | None]]:
    """Each endpoint that ever had a place in the meeting: where it stands now, with its
    latest participation (an endpoint absent from the result has not come)."""
    latest: dict[int, Participation] = {}
    for p in Participation.objects.filter(meeting=meeting).order_by("granted_at", "pk"):
        current = latest.get(p.endpoint_id)
        # A place granted but never taken up does not hide an earlier connection.
        if current is None or p.left_at is None or p.joined_at is not None:
            latest[p.endpoint_id] = p
    found: dict[int, tuple[Presence, Participation | None]] = {}
    for endpoint_id, p in latest.items():
        if p.left_at is None:
            presence = Presence.IN_ROOM if p.joined_at else Presence.CONNECTING
        elif p.joined_at is None:
            continue  # it never came into the room
        elif p.left_reason == LeaveReason.KICKED:
            presence = Presence.REMOVED
        elif p.left_reason == LeaveReason.LOST:
            presence = Presence.LOST
        else:
            presence = Presence.LEFT
        found[endpoint_id] = (presence, p)
    return found


def presence_rows(meeting: Meeting, *, calls: dict[int, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """Every invited endpoint, present or not (the consoles' "who has not come"), with what
    brings an absent one in: the MCU calls a hardware terminal (R24), a join link for the
    others. `calls` gives the latest call of each hardware terminal (`sip_state`)."""
    hardware = set(hardware_endpoints(meeting).values_list("pk", flat=True))
    found = presences(meeting)
    rows = []
    for endpoint in invited_endpoints(meeting):
        presence, p = found.get(endpoint.pk, (Presence.ABSENT, None))
        rows.append({
            "endpoint_id": endpoint.pk,
            "endpoint": endpoint.name,
            "agency": endpoint.agency.name,
            "is_host": endpoint.pk == meeting.host_endpoint_id,
            "presence": presence.value,
            "presence_label": str(presence.label),
            "present": presence in (Presence.IN_ROOM, Presence.CONNECTING),
            "since": _iso(p.left_at or p.joined_at) if p else None,
            "admitted": endpoint.status == EndpointStatus.APPROVED,
            "hardware": endpoint.pk in hardware,
            "call": (calls or {}).get(endpoint.pk),
        })
    return rows


def call_row(call: SipCall) -> dict[str, Any]:
    return {
        "id": call.pk,
        "endpoint_id": call.endpoint_id,
        "endpoint": call.endpoint.name if call.endpoint else "",
        "kind": call.kind,
        "direction": call.direction,
        "is_test": call.is_test,
        "remote_uri": call.remote_uri,
        "source": call.source_address or "",
        "state": call.state,
        "state_label": str(CallState(call.state).label),
        "active": call.is_active,
        "hanging_up": call.hangup_requested_at is not None and call.is_active,
        "sip_code": call.sip_code,
        "reason": call.reason,
        "requested_at": _iso(call.requested_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
    }


def sip_state(meeting: Meeting, *, user: User | None = None) -> dict[str, Any]:
    """The consoles' SIP panel (R23, R24): each invited hardware endpoint with its latest
    call, the upstream link and its last test, the latest calls (refused dial-ins among
    them), and what a terminal dials to join (to those who may see the meeting code)."""
    calls = list(SipCall.objects.filter(meeting=meeting).select_related("endpoint")
                 .order_by("-requested_at", "-pk")[:200])
    latest: dict[int, SipCall] = {}
    for call in calls:
        if call.endpoint_id is not None and call.kind == CallKind.TERMINAL:
            latest.setdefault(call.endpoint_id, call)
    connected = set(Participation.objects.filter(meeting=meeting, left_at__isnull=True)
                    .values_list("endpoint_id", flat=True))
    terminals = [
        {"endpoint_id": e.pk, "endpoint": e.name, "agency": e.agency.name,
         "is_host": e.pk == meeting.host_endpoint_id,
         "address": e.sip_uri or (str(e.vcs_ip) if e.vcs_ip else ""),
         "connected": e.pk in connected,
         "call": call_row(latest[e.pk]) if e.pk in latest else None}
        for e in hardware_endpoints(meeting).select_related("agency").order_by("name")
    ]
    upstream = [c for c in calls if c.kind == CallKind.UPSTREAM]
    node = meeting.node
    dial_in = ""
    if node is not None and node.sip_address and meeting.code and user is not None \
            and can_see_code(user, meeting):
        port = "" if node.sip_port == 5060 else f":{node.sip_port}"
        dial_in = f"sip:{meeting.code}@{node.sip_host}{port}"
    return {
        "sip": {
            "enabled": bool(node and node.sip_address),
            "dial_in": dial_in,
            "terminals": terminals,
            "upstream": {
                "uri": meeting.upstream_uri,
                "call": next((call_row(c) for c in upstream if not c.is_test), None),
                "test": next((call_row(c) for c in upstream if c.is_test), None),
            } if meeting.upstream_uri or upstream else None,
            "can_test_upstream": bool(user and is_operator(user) and meeting.upstream_uri),
        },
        "calls": [call_row(c) for c in calls[:20]],
    }


def participant_view(participation: Participation) -> dict[str, Any]:
    """What one participant's page needs: its own state, the main picture, its place in the
    queue, and who else is connected (names and pictures only)."""
    p = Participation.objects.select_related("meeting", "endpoint__agency").get(
        pk=participation.pk
    )
    room = Room.objects.filter(meeting_id=p.meeting_id, destroyed_at__isnull=True).first()
    others = [
        {"janus_id": o.janus_id, "display": o.display, "has_floor": o.has_floor,
         "is_host": o.endpoint_id == p.meeting.host_endpoint_id}
        for o in open_participations(p.meeting)
        if o.pk != p.pk and o.joined_at is not None
    ]
    queue_ids = [
        q.pk for q in Participation.objects.filter(
            meeting_id=p.meeting_id, left_at__isnull=True, hand_raised_at__isnull=False
        ).order_by("hand_raised_at", "pk")
    ]
    from .services.control import may_unmute_self

    return {
        "me": participant_row(p) | {"open": p.left_at is None, "left_reason": p.left_reason,
                                    "may_unmute": may_unmute_self(p)},
        "queue_position": queue_ids.index(p.pk) + 1 if p.pk in queue_ids else None,
        "spotlight": room.spotlight.janus_id if room and room.spotlight else None,
        "locked": bool(room and room.locked),
        "recording": bool(room and room.recording),
        "meeting_status": p.meeting.status,
        "others": others,
        "extras": extensions.participant_extras(p),
    }


@dataclass
class NodeLoad:
    node: McuNode
    live_meetings: int
    connected: int
    mixers: int = 0  # meetings whose SIP calls use one of the node's mixers

    @property
    def mixers_percent(self) -> int:
        return round(100 * self.mixers / self.node.max_mixers) if self.node.max_mixers else 0

    @property
    def meetings_percent(self) -> int:
        return round(100 * self.live_meetings / self.node.max_meetings)

    @property
    def endpoints_percent(self) -> int:
        return round(100 * self.connected / self.node.max_endpoints)


def operator_overview() -> dict[str, Any]:
    """The MCU operator's console: every live meeting on every node, each node's load against
    its capacity, the connections that are poor, and the open incidents (R16)."""
    connected = Participation.objects.filter(left_at__isnull=True, joined_at__isnull=False)
    meetings = list(
        Meeting.objects.select_related("node", "host_agency")
        .filter(Q(status=MeetingStatus.LIVE) | Q(participations__in=connected))
        .distinct()
        .annotate(
            connected=Count("participations", filter=Q(
                participations__left_at__isnull=True, participations__joined_at__isnull=False
            ))
        )
        .order_by("starts_at")
    )
    by_node: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for m in meetings:
        if m.node_id:
            by_node[m.node_id][0] += 1
            by_node[m.node_id][1] += m.connected  # type: ignore[attr-defined]
    mixing: dict[int, set[int]] = defaultdict(set)  # node → meetings with a call under way
    for node_id, meeting_id in SipCall.objects.filter(state__in=ACTIVE_CALL_STATES).values_list(
            "node_id", "meeting_id"):
        mixing[node_id].add(meeting_id)
    nodes = [
        NodeLoad(node, by_node[node.pk][0], by_node[node.pk][1],
                 mixers=len(mixing.get(node.pk, ())))
        for node in McuNode.objects.filter(is_active=True)
    ]
    poor = list(
        connected.filter(quality=Quality.POOR)
        .select_related("endpoint__agency", "meeting")
        .order_by("meeting__starts_at")
    )
    incidents = list(
        Incident.objects.filter(status="open").select_related("meeting", "endpoint")
        .order_by("-opened_at")[:50]
    )
    return {"meetings": meetings, "nodes": nodes, "poor": poor, "incidents": incidents}


def operator_overview_json() -> dict[str, Any]:
    data = operator_overview()
    calls: dict[int, dict[str, Any]] = defaultdict(dict)
    live_calls = SipCall.objects.filter(meeting__in=[m.pk for m in data["meetings"]],
                                        state__in=ACTIVE_CALL_STATES)
    for call in live_calls:
        summary = calls[call.meeting_id]
        if call.kind == CallKind.UPSTREAM:
            summary["upstream"] = call.state
        elif call.state == CallState.ANSWERED:
            summary["terminals"] = summary.get("terminals", 0) + 1
    absent: dict[int, list[dict[str, Any]]] = {}
    invited: dict[int, int] = {}
    for m in data["meetings"]:
        rows = presence_rows(m)
        invited[m.pk] = len(rows)
        absent[m.pk] = [
            {k: r[k] for k in ("endpoint_id", "endpoint", "agency", "presence", "presence_label",
                               "hardware", "admitted")}
            for r in rows if not r["present"]
        ]
    return {
        "meetings": [
            {"id": m.pk, "title": m.title, "status": m.status,
             "status_label": str(m.get_status_display()),
             "host": m.host_agency.name, "node": m.node.name if m.node else None,
             "connected": m.connected,  # type: ignore[attr-defined]
             "invited": invited[m.pk], "absent": absent[m.pk],
             "sip": bool(m.node and m.node.sip_address),
             "terminals": calls.get(m.pk, {}).get("terminals", 0),
             "upstream": calls.get(m.pk, {}).get("upstream"),
             "starts_at": _iso(m.starts_at), "ends_at": _iso(m.ends_at)}
            for m in data["meetings"]
        ],
        "nodes": [
            {"id": n.node.pk, "name": n.node.name, "health": n.node.health,
             "live_meetings": n.live_meetings, "max_meetings": n.node.max_meetings,
             "connected": n.connected, "max_endpoints": n.node.max_endpoints,
             "meetings_percent": n.meetings_percent, "endpoints_percent": n.endpoints_percent,
             "sip": bool(n.node.sip_address), "mixers": n.mixers,
             "max_mixers": n.node.max_mixers, "mixers_percent": n.mixers_percent}
            for n in data["nodes"]
        ],
        "poor": [
            {"id": p.pk, "meeting": p.meeting_id, "meeting_title": p.meeting.title,
             "endpoint": p.endpoint.name, "rtt_ms": p.rtt_ms, "loss_percent": p.loss_percent}
            for p in data["poor"]
        ],
        "incidents": [
            {"id": i.pk, "meeting": i.meeting_id, "meeting_title": i.meeting.title,
             "description": i.description, "opened_at": _iso(i.opened_at)}
            for i in data["incidents"]
        ],
        "at": timezone.now().isoformat(),
    }


@dataclass
class AttendanceLine:
    """One endpoint's attendance (R18): when it was first and last connected, for how long,
    the attendee count it last reported, and when the host removed it, if it did. An invited
    endpoint that never connected has a line too: it was absent."""

    endpoint_id: int
    endpoint: str
    agency: str
    first_joined: Any
    last_left: Any
    connected_seconds: int
    connections: int
    attendee_count: int | None
    still_connected: bool
    is_host: bool = False
    removed_at: list[Any] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.connections > 0


def attendance(meeting: Meeting) -> list[AttendanceLine]:
    rows = (
        Participation.objects.filter(meeting=meeting, joined_at__isnull=False)
        .select_related("endpoint__agency")
        .order_by("joined_at")
    )
    now = timezone.now()
    host = meeting.host_endpoint_id
    lines: dict[int, AttendanceLine] = {}
    for p in rows:
        line = lines.get(p.endpoint_id)
        if line is None:
            line = lines[p.endpoint_id] = AttendanceLine(
                p.endpoint_id, p.endpoint.name, p.endpoint.agency.name, p.joined_at, None, 0, 0,
                None, False, is_host=p.endpoint_id == host,
            )
        line.connections += 1
        end = p.left_at or now
        joined = p.joined_at or end
        line.connected_seconds += max(0, int((end - joined).total_seconds()))
        if p.left_at is None:
            line.still_connected = True
        elif line.last_left is None or p.left_at > line.last_left:
            line.last_left = p.left_at
        if p.left_at is not None and p.left_reason == LeaveReason.KICKED:
            line.removed_at.append(p.left_at)
        if p.attendee_count is not None:
            line.attendee_count = p.attendee_count
    for endpoint in invited_endpoints(meeting):
        if endpoint.pk not in lines:
            lines[endpoint.pk] = AttendanceLine(endpoint.pk, endpoint.name, endpoint.agency.name,
                                                None, None, 0, 0, None, False,
                                                is_host=endpoint.pk == host)
    return sorted(lines.values(), key=lambda line: (line.first_joined is None, line.endpoint))
