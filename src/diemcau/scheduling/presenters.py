"""What the meeting pages show, computed from the models: the readiness grid of technical
checks (R15), the history of state changes from the audit log (R22) and the operator's reply
deadline with its warning (R9)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import calendar
from diemcau.core.api_inputs import is_id
from diemcau.core.models import AuditEvent, User
from diemcau.core.permissions import Action, can
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Endpoint
from diemcau.directory.rules import Stage, unmet
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.ui import status
from diemcau.ui.forms import DATETIME_INPUT, in_window

from . import reasons, selectors
from .capacity import Window
from .choices import HOLDING_STATUSES, CheckStatus, MeetingStatus, Urgency, WindowKind
from .models import Meeting, TechnicalCheck
from .permissions import meetings_visible_to
from .rules import ReplyState, reply_deadline

REASON_ACTIONS = {"meeting.refuse", "meeting.cancel", "meeting.revoke"}
# Actions whose label already names the status they lead to (no badge needed).
STATE_ACTIONS = {"meeting.submit", "meeting.accept", "meeting.start", "meeting.end",
                 *REASON_ACTIONS}


def _history_label(action: str) -> str:
    """What each audit action of a meeting means, for its history."""
    labels = {
        "meeting.draft": _("Saved as a draft"),
        "meeting.update": _("Draft edited"),
        "meeting.amend": _("Edited after submission; the reply deadline started again"),
        "meeting.submit": _("Submitted to the operator"),
        "meeting.accept": _("Accepted, code issued"),
        "meeting.refuse": _("Refused"),
        "meeting.cancel": _("Cancelled"),
        "meeting.revoke": _("Code revoked"),
        "meeting.reply_overdue": _("Reply deadline missed"),
        "meeting.start": _("Session started"),
        "meeting.end": _("Meeting ended"),
        "live.mute_all": _("Every microphone muted by the host"),
    }
    return labels.get(action, action)


@dataclass
class ReadinessCell:
    check: TechnicalCheck | None
    colour: str = "light"
    label: str = ""
    may_record: bool = False


@dataclass
class ReadinessRow:
    endpoint: Endpoint
    is_host: bool
    cells: list[ReadinessCell] = field(default_factory=list)


def _check_state(check: TechnicalCheck, now: dt.datetime) -> tuple[str, str]:
    if check.status == CheckStatus.SCHEDULED and check.due_at <= now:
        # A deadline already past is overdue, in red: never "due".
        return "danger", _("Overdue")
    return status.colour("check", check.status), status.label("check", check.status)


def readiness(
    user: User, meeting: Meeting, endpoints: list[Endpoint]
) -> tuple[list[str], list[ReadinessRow]]:
    """Every endpoint × check (rehearsal, session): the host sees all at a glance (R15)."""
    found = {(c.endpoint_id, c.kind): c for c in meeting.checks.all()}
    kinds = [
        k for k in (WindowKind.REHEARSAL, WindowKind.SESSION) if any(kind == k for _, kind in found)
    ]
    now = timezone.now()
    holding = meeting.status in HOLDING_STATUSES
    rows = []
    for endpoint in endpoints:
        row = ReadinessRow(endpoint, endpoint.pk == meeting.host_endpoint_id)
        may_record = holding and can(user, Action.RECORD_CHECK, endpoint.agency)
        for kind in kinds:
            check = found.get((endpoint.pk, kind))
            if check is None:
                row.cells.append(ReadinessCell(None))
                continue
            colour, label = _check_state(check, now)
            row.cells.append(ReadinessCell(check, colour, label, may_record))
        rows.append(row)
    return [str(WindowKind(k).label) for k in kinds], rows


def history(meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's changes of state, from the audit log (R22)."""
    events = AuditEvent.objects.filter(
        object_type="scheduling.meeting", object_id=str(meeting.pk)
    ).order_by("seq")
    rows = []
    for event in events:
        after = event.after if isinstance(event.after, dict) else {}
        status = after.get("status", "") if event.action not in STATE_ACTIONS else ""
        rows.append(
            {
                "at": event.at,
                "actor": event.actor_username,
                "label": _history_label(event.action),
                "status": status if status in MeetingStatus.values else "",
                "status_label": MeetingStatus(status).label
                if status in MeetingStatus.values
                else "",
                "reason": _history_reason(after) if event.action in REASON_ACTIONS else "",
            }
        )
    return rows


def reply_state(meeting: Meeting, rulebook: Rulebook) -> dict[str, Any] | None:
    """The operator's reply deadline for the countdown badge: the state is
    `rules.reply_deadline`'s (ĐN Đ11.2b, KH Đ13.2b), as in the API and the worker."""
    deadline = reply_deadline(meeting, rulebook)
    if deadline is None:
        return None
    return {
        "due": deadline.due,
        "warn_at": deadline.warn_at,
        "state": str(deadline.state),
        "answered": deadline.answered,
        "due_iso": timezone.localtime(deadline.due).isoformat(timespec="seconds"),
        "warn_iso": timezone.localtime(deadline.warn_at).isoformat(timespec="seconds"),
        "remaining": (_since_text(deadline.now - deadline.due) if deadline.at_once
                      and deadline.state == ReplyState.DUE_NOW
                      else _remaining_text(deadline.due - deadline.now)),
        "breach_iso": (timezone.localtime(deadline.breach_at).isoformat(timespec="seconds")
                       if deadline.at_once and deadline.breach_at else ""),
        "article": deadline.article,
    }


def registration_channels(rulebook: Rulebook) -> list[dict[str, str]]:
    """Where the regulation has a registration sent, shown where one is made: KH Đ13.2a "sử
    dụng tài khoản thư điện tử công vụ (...) gửi (...) đến địa chỉ thư điện tử
    hoptructuyen@khanhhoa.gov.vn"; ĐN Đ11.2a "thông qua địa chỉ https://byvn.net/nd57 hoặc gửi
    giấy mời họp". Each with its address, and a link where it is one."""
    rule = rulebook.registration
    shown = []
    for channel in rule.channels:
        if channel == "official_email":
            shown.append({"kind": channel, "label": _("Official e-mail"),
                          "address": rule.official_email or "",
                          "href": f"mailto:{rule.official_email}" if rule.official_email else ""})
        elif channel == "web_form":
            shown.append({"kind": channel, "label": _("Online form"),
                          "address": rule.form_url or "", "href": rule.form_url or ""})
        else:
            shown.append({"kind": channel, "address": "", "href": "",
                          "label": _("Invitation letter (on paper, or a PDF stamped by the "
                                     "agency)")})
    return shown


def _since_text(delta: dt.timedelta) -> str:
    """"due now +H:MM:SS": a reply due at once counts up from the receipt (scheduling.js)."""
    seconds = max(0, int(delta.total_seconds()))
    return f"{_('due now')} +{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _history_reason(after: dict[str, Any]) -> str:
    """A decision's reason as the audit event recorded it, a system reason read in the
    reader's language from its kind and parameters."""
    kind, params = after.get("decision_reason_kind"), after.get("decision_reason_params")
    if kind and isinstance(params, dict):
        text = reasons.render(str(kind), params)
        if text:
            return text
    return str(after.get("decision_reason", ""))


def _remaining_text(delta: dt.timedelta) -> str:
    """H:MM:SS, or "overdue H:MM:SS" (the same as scheduling.js writes every second)."""
    seconds = int(abs(delta.total_seconds()))
    text = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return text if delta.total_seconds() > 0 else f"{_('overdue')} {text}"


# ---------------------------------------------------------------- registration form


def _ceil_minute(moment: dt.datetime) -> dt.datetime:
    """Up to the whole minute, so a start filled from it is never a few seconds too early."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(minutes=1)


def _parse_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        # A form's initial value comes back naive, in the current zone.
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if not value:
        return None
    try:
        parsed = forms.DateTimeField(required=False, validators=[in_window]).clean(value)
    except ValidationError:  # the form says what is wrong; the panel leaves it out
        return None
    return parsed if isinstance(parsed, dt.datetime) else None


def ids_of(values: Any) -> list[int]:
    """Primary keys from form values, ignoring anything that is not an id the database holds."""
    if values is None:
        return []
    items = values if isinstance(values, list | tuple) else [values]
    return [int(v) for v in items if is_id(str(v))]


def rules_panel_context(
    user: User, values: dict[str, Any], exclude_meeting: int | None = None
) -> dict[str, Any]:
    """What the rules allow for the form as filled in now: the earliest start for the chosen
    urgency (R8), the operator's reply deadline (R9), and which endpoints are already booked
    at the chosen times — so nobody learns it only after submitting."""
    rulebook = active_rulebook()
    now = timezone.now()
    urgency = values.get("urgency") or Urgency.NORMAL
    if urgency not in Urgency.values:
        urgency = Urgency.NORMAL
    lead = rulebook.lead_times[urgency]
    counted_from = calendar.registration_received_at(rulebook, now, urgency)
    starts = _parse_datetime(values.get("starts_at"))
    ends = _parse_datetime(values.get("ends_at"))
    rehearsal_starts = _parse_datetime(values.get("rehearsal_starts_at"))
    rehearsal_ends = _parse_datetime(values.get("rehearsal_ends_at"))
    # The lead time runs to the session, not to its rehearsal (KH Đ13.2a "trước thời điểm tổ
    # chức phiên họp"), as the service checks it (`lifecycle.stamp_submission`).
    first = starts
    timing = None
    if first is not None:
        latest = calendar.latest_registration_time(rulebook, urgency, first)
        timing = {
            "first": first,
            "in_time": latest is None or counted_from <= latest,
            "latest": latest,
        }
    windows = []
    if starts and ends and ends > starts:
        windows.append(Window(starts, ends))
    if rehearsal_starts and rehearsal_ends and rehearsal_ends > rehearsal_starts:
        windows.append(Window(rehearsal_starts, rehearsal_ends))
    chosen = ids_of(values.get("host_endpoint")) + ids_of(values.get("participants"))
    endpoints = list(
        Endpoint.objects.filter(pk__in=chosen, status=EndpointStatus.APPROVED).order_by("name")
    )
    busy = selectors.busy_endpoints(endpoints, windows, exclude_meeting)
    seen_ids = set(
        meetings_visible_to(user)
        .filter(pk__in=[b.meeting_id for rows in busy.values() for b in rows])
        .values_list("pk", flat=True)
    )
    busy_rows = [
        {
            "endpoint": endpoint,
            "bookings": [
                {
                    "starts_at": b.starts_at,
                    "ends_at": b.ends_at,
                    "title": b.meeting.title if b.meeting_id in seen_ids else "",
                }
                for b in sorted(busy[endpoint.pk], key=lambda b: b.starts_at)
            ],
        }
        for endpoint in endpoints
        if endpoint.pk in busy
    ]
    # What the registration will refuse them for (R5; ĐN Đ8.3c), said before submitting.
    not_ready = [
        {"endpoint": endpoint, "unmet": missing}
        for endpoint in endpoints
        if (missing := unmet(endpoint, Stage.USE, rulebook))
    ]
    earliest = _ceil_minute(calendar.earliest_start(rulebook, urgency, now))
    return {
        "panel_urgency": Urgency(urgency),
        "lead": lead,
        "lead_article": rulebook.cite(lead.article),
        "earliest": earliest,
        "earliest_input": timezone.localtime(earliest).strftime(DATETIME_INPUT),
        "counted_from": counted_from,
        "counted_later": counted_from - now > dt.timedelta(minutes=1),
        "reply_due": calendar.reply_deadline(rulebook, now, urgency),
        "reply_article": rulebook.cite(rulebook.reply_sla.article),
        "first_in_line": urgency in rulebook.emergency_priority.applies_to,
        "priority_article": rulebook.cite(rulebook.emergency_priority.article),
        "timing": timing,
        "windows_chosen": bool(windows),
        "endpoints_chosen": len(endpoints),
        "busy_rows": busy_rows,
        "not_ready": not_ready,
    }
