"""Rules of a meeting that several places must apply alike: one predicate each, asked by the
services, the pages and the API, so they can never disagree. A refusal is returned (with its
article where the rulebook gives one), or None; `may_*` say who may; `reply_deadline` says
where a registration stands against the operator's reply deadline."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import calendar
from diemcau.core.errors import InvalidTransition, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, can
from diemcau.directory.choices import Network, TerminalKind
from diemcau.directory.models import Endpoint
from diemcau.rulebooks import Rulebook, active_rulebook

from .choices import Classification, IncidentStatus, MeetingStatus
from .models import Incident, Meeting


def personal_internet_refusal(classification: str, endpoint: Endpoint, *,
                              field: str = "endpoint") -> RuleViolation | None:
    """R20: a meeting with state secrets takes no personal device over the Internet — neither
    when it is registered nor when the device tries to join."""
    rulebook = active_rulebook()
    secrecy = rulebook.secrecy
    if (
        classification == Classification.STATE_SECRET
        and secrecy.state_secret_refuses_personal_internet
        and endpoint.terminal_kind == TerminalKind.PERSONAL
        and endpoint.network == Network.INTERNET
    ):
        return RuleViolation(
            code="state_secret_personal_internet",
            article=rulebook.cite(secrecy.personal_internet_article or secrecy.article),
            message=_(
                "%(endpoint)s is a personal device on the Internet: not allowed in a "
                "state-secret meeting."
            )
            % {"endpoint": endpoint.name},
            field=field,
        )
    return None


def recording_refusal(meeting: Meeting) -> RuleViolation | None:
    """Why the meeting may not be recorded, if it may not (R20)."""
    rulebook = active_rulebook()
    secrecy = rulebook.secrecy
    if secrecy.recording_needs_host_permission and not meeting.recording_requested:
        return RuleViolation(
            code="recording_not_requested",
            article=rulebook.cite(secrecy.recording_article or secrecy.article),
            message=_("The host did not ask for this meeting to be recorded."),
        )
    if (meeting.classification == Classification.STATE_SECRET
            and not secrecy.state_secret_allows_recording):
        return RuleViolation(
            code="recording_state_secret",
            # Not an article of either regulation: the deployment's own policy (R20). ĐN Đ13.2
            # records "nếu có yêu cầu" and Đ13.4 only keeps state-secret materials from being
            # shared; KH has no clause on it either. The refusal says so.
            article=rulebook.cite_setting("secrecy.state_secret_allows_recording"),
            message=_("This deployment does not record meetings with state secrets: that is "
                      "its own policy, not an article of the regulation."),
        )
    return None


# ---------------------------------------------------------------- meetings the offices announce


def is_announced(meeting: Meeting, rulebook: Rulebook | None = None) -> bool:
    """A meeting its office announces rather than registers for approval (ĐN Đ10.1: the
    offices of Tỉnh ủy, Đoàn ĐBQH and HĐND, UBND "thông báo thời gian, địa điểm, thành phần
    điểm cầu để đơn vị vận hành kỹ thuật Hệ thống chuẩn bị các điều kiện kỹ thuật phục vụ";
    KH Đ12.1: "Văn phòng Ủy ban nhân dân tỉnh có trách nhiệm thông báo lịch tổ chức họp trực
    tuyến (...) để Đơn vị vận hành kỹ thuật (...) chuẩn bị các điều kiện kỹ thuật")."""
    rulebook = rulebook or active_rulebook()
    rule = rulebook.registration
    if rule.announced_when_upstream and meeting.upstream_uri:
        return True
    return meeting.host_agency.kind in rule.announced_by_offices_for_kinds


def refuse_refusal(meeting: Meeting) -> RuleViolation | None:
    """Why the operator may not refuse `meeting`: an announced meeting is prepared for, not
    approved; room is made for it by the priority rule (KH Đ12.4b) when it is accepted."""
    rulebook = active_rulebook()
    if not is_announced(meeting, rulebook):
        return None
    registration = rulebook.registration
    return RuleViolation(
        code="announced_meeting_not_refused",
        article=rulebook.cite(registration.announced_article or registration.article),
        message=_("%(host)s announces this meeting for the operator to prepare; it is not "
                  "registered for approval and cannot be refused.")
        % {"host": meeting.host_agency.name},
    )


# ---------------------------------------------------------------- the operator's reply (R9)


class ReplyState(StrEnum):
    """Where a registration stands against the operator's reply deadline. The values are
    what the countdown badge and scheduling.js use."""

    DUE = "ok"
    DUE_SOON = "warn"
    # Due at once (KH Đ12.3, Đ13.2a: an emergency): waiting, counted up from its receipt,
    # until the regulation's own limit passes.
    DUE_NOW = "now"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ReplyDeadline:
    due: dt.datetime
    warn_at: dt.datetime
    answered: bool
    state: ReplyState
    article: str
    now: dt.datetime
    # When an unanswered registration has missed the regulation's limit: `due`, or for a
    # reply due at once, the receipt plus the SLA (KH Đ13.2b "chậm nhất 03 giờ").
    breach_at: dt.datetime | None = None
    at_once: bool = False

    @property
    def missed(self) -> bool:
        """The deadline passed unanswered, or the answer came after it."""
        return self.state == ReplyState.OVERDUE

    @property
    def seconds_left(self) -> int:
        """Until the deadline; negative once it has passed."""
        return math.floor((self.due - self.now).total_seconds())


def reply_deadline(meeting: Meeting, rulebook: Rulebook | None = None,
                   now: dt.datetime | None = None) -> ReplyDeadline | None:
    """The operator's reply deadline and where the meeting stands against it (ĐN Đ11.2b,
    KH Đ13.2b): due; due soon from the rulebook's warning time; overdue once it has passed
    unanswered, was answered late, or the worker recorded the breach. None before the
    meeting is submitted. The pages, the API's queue and the worker's warning all ask this."""
    due = meeting.reply_due_at
    if due is None:
        return None
    rulebook = rulebook or active_rulebook()
    now = now or timezone.now()
    at_once = calendar.reply_is_due_at_once(rulebook, meeting.urgency)
    # The warning time of the receipt (`calendar.reply_warning_time`), taken from the stored
    # deadline so that a deadline moved by hand (or by a later rulebook change) still warns.
    warn_at = due - dt.timedelta(minutes=rulebook.reply_sla.warn_before_minutes)
    breach_at = due + dt.timedelta(hours=rulebook.reply_sla.hours) if at_once else due
    answered = meeting.decided_at is not None
    moment = meeting.decided_at if meeting.decided_at is not None else now
    if meeting.sla_breached_at is not None or moment > breach_at:
        state = ReplyState.OVERDUE
    elif at_once and not answered:
        state = ReplyState.DUE_NOW
    elif not answered and now >= warn_at:
        state = ReplyState.DUE_SOON
    else:
        state = ReplyState.DUE
    article = rulebook.reply_sla.article
    if at_once:
        article = f"{rulebook.emergency_priority.article}, {article}"
    return ReplyDeadline(due, warn_at, answered, state, rulebook.cite(article), now,
                         breach_at, at_once)


def overdue_count(meetings: Iterable[Meeting], now: dt.datetime | None = None) -> int:
    """How many of `meetings` missed their reply deadline (the badges and the dashboard)."""
    rulebook = active_rulebook()
    now = now or timezone.now()
    deadlines = (reply_deadline(meeting, rulebook, now) for meeting in meetings)
    return sum(1 for deadline in deadlines if deadline is not None and deadline.missed)


# ---------------------------------------------------------------- incidents (R15, R16)

# ĐN Đ12.4c, KH Đ14.4c: an endpoint reports what it cannot fix itself to the operator, from
# the technical checks of an accepted meeting through the session, and after its end for the
# operator to follow up. A draft, a registration still waiting, or a meeting that no longer
# holds (refused, cancelled, revoked) has no session to report on.
INCIDENT_STATUSES = frozenset({MeetingStatus.ACCEPTED, MeetingStatus.LIVE, MeetingStatus.ENDED})


def may_report_incident(user: User, meeting: Meeting, endpoint: Endpoint | None = None) -> bool:
    """Who reports: the scope of the endpoint concerned, or for the whole meeting the host's."""
    agency = endpoint.agency if endpoint is not None else meeting.host_agency
    return can(user, Action.REPORT_INCIDENT, agency)


def incident_refusal(meeting: Meeting) -> InvalidTransition | None:
    """Why no incident may be reported on `meeting` now, if none may (see INCIDENT_STATUSES)."""
    if meeting.status in INCIDENT_STATUSES:
        return None
    return InvalidTransition(
        _("Incidents are reported on an accepted, live or ended meeting; this one is "
          "“%(status)s”.") % {"status": meeting.get_status_display()}
    )


def may_manage_incidents(user: User) -> bool:
    """The operator tracks incidents to closure (ĐN Đ12.4c, KH Đ14.4c)."""
    return can(user, Action.MANAGE_INCIDENT)


def incident_update_refusal(incident: Incident) -> InvalidTransition | None:
    """A closed incident is final: its resolution is the record."""
    if incident.status == IncidentStatus.CLOSED:
        return InvalidTransition(_("This incident is closed."))
    return None
