"""Who sees and acts on meetings, built on `diemcau.core.permissions` (R22).

A meeting is visible to its host agency's scope and to the scope of every agency with an
invited endpoint; province-wide roles see all. Lists and detail pages use the same queryset.

Control of a live meeting follows the rulebook's delegation (R17): the controlling agency is
the nearest agency, from the host upwards, whose level the rulebook gives control rights to.
In KH a commune-hosted meeting is therefore controlled by its district (Đ14.3a); in ĐN, where
control is delegated down to communes, by the commune itself. A host with no such agency
above it (a KH Đ3.2đ agency under no province or district agency, KH Đ10.1) is controlled by
the MCU operators alone. MCU operators act on any meeting.
"""

from __future__ import annotations

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from diemcau.core.errors import RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import (
    Action,
    agency_scope_filter,
    can,
    in_scope,
    is_operator,
    restrict,
    role_allows,
    sees_whole_province,
)
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.rules import control_refusal as room_control_refusal
from diemcau.rulebooks import active_rulebook

from .choices import HOLDING_STATUSES, MeetingStatus
from .models import Incident, MailedRegistration, Meeting, TechnicalCheck


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """Meetings of the user's scope, as host or participant — less the drafts of offices
    other than the user's: a draft is the registering office's unfinished work.

    A scoped user's meetings are found from the scope inwards: its agencies first (a few
    rows), then, for each meeting the rest of the query keeps (a week, a page), whether an
    endpoint of theirs is invited — the meeting's own rows in the participants' (meeting,
    endpoint) index, about ten. No set is built over every participant row of the province."""
    if not role_allows(user, Action.VIEW_MEETING):
        return Meeting.objects.none()
    meetings = Meeting.objects.all()
    if not sees_whole_province(user):
        scope = Agency.objects.filter(agency_scope_filter(user)).values("pk")
        # The scope's endpoints are read first (a district has a few hundred), and each
        # invitation's endpoint is tested against that list: no lookup of the endpoint and its
        # agency per invitation, and a plan both databases estimate rightly. With a subquery
        # there, PostgreSQL estimated a week at 100,000 meetings at 117,000 and compiled it
        # with JIT (0.4 s of a 1.2 s EXPLAIN ANALYZE; the list: 20 ms, no JIT).
        scope_endpoints = list(
            Endpoint.objects.filter(agency__in=scope).order_by().values_list("pk", flat=True))
        invited = Q(host_agency__in=scope)
        if scope_endpoints:
            # A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL turns an EXISTS into a
            # hashed set of every invitation of the scope (tens of thousands of rows), built
            # before the week is applied; this one stays a lookup per meeting on both
            # databases. `endpoint_id + 0`, so that SQLite reads the meeting's own rows of the
            # (meeting, endpoint) index and tests each, rather than probing the index once per
            # endpoint of the scope (EXPLAIN QUERY PLAN: 67 ms against 5 ms for a week).
            invitation = (
                Meeting.participants.through.objects.alias(endpoint_key=F("endpoint_id") + 0)
                .filter(Q(meeting_id=OuterRef("pk")), Q(endpoint_key__in=scope_endpoints))
                .values("pk")[:1]
            )
            meetings = meetings.alias(scope_invited=Subquery(invitation))
            invited |= Q(scope_invited__isnull=False)
        meetings = meetings.filter(invited)
    registrable = restrict(Agency.objects.all(), user, Action.REGISTER_MEETING, "")
    return meetings.exclude(Q(status=MeetingStatus.DRAFT) & ~Q(host_agency__in=registrable))


def can_see_code(user: User, meeting: Meeting) -> bool:
    """R13 (KH Đ12.4, Đ11.1): the code is a secret for those who join or run the meeting —
    the host agency's scope, the participants' scope and the operators — not province-wide
    readers such as auditors (R22, least privilege)."""
    if not meeting.code:
        return False
    if role_allows(user, Action.DECIDE_MEETING):
        return True
    if sees_whole_province(user):
        return False
    if meeting.status not in HOLDING_STATUSES:
        return False  # an ended meeting's code opens nothing: it is no longer shown
    if in_scope(user, meeting.host_agency):
        return True
    return any(in_scope(user, e.agency) for e in meeting.participants.select_related("agency"))


def can_manage_meeting(user: User, meeting: Meeting) -> bool:
    """Change or cancel a registration: the registering office's scope, or the operator."""
    return can(user, Action.REGISTER_MEETING, meeting.host_agency)


def checks_visible_to(user: User) -> QuerySet[TechnicalCheck]:
    return TechnicalCheck.objects.filter(meeting__in=meetings_visible_to(user))


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    return Incident.objects.filter(meeting__in=meetings_visible_to(user))


# ---------------------------------------------------------------- control rights (R17)


def controlling_agency(meeting: Meeting) -> Agency | None:
    """The agency whose technicians control the meeting (ĐN Đ9, KH Đ14.3a), or None when
    no agency from the host upwards is on a level with control rights: then only the MCU
    operators control it. KH Đ10.1: "Điểm cầu cấp tỉnh, huyện quy định tại điểm b, c khoản 2
    Điều 3 Quy chế này được cấp quyền điều khiển phiên họp đối với các cuộc họp do điểm cầu
    mình hoặc điểm cầu đơn vị trực thuộc chủ trì" — an agency of point đ ("cơ quan, đơn vị
    khác") with no such level above it is given no control right of its own."""
    rulebook = active_rulebook()
    control = rulebook.control
    host = meeting.host_agency
    chain = _host_and_ancestors(host)
    for index, agency in enumerate(chain):
        level = rulebook.kind_levels.get(agency.kind)
        if level == "commune" and control.commune_hosted_controlled_by == "district":
            continue  # KH Đ14.3a: the district's technician controls commune meetings
        if index == 0 and level in control.controller_levels:
            return agency
        if index > 0 and level in control.levels_controlling_subordinates():
            return agency
        if index == 0 and not control.includes_subordinate_hosts:
            break
    return None  # no level with control rights: the operators control it


def _host_and_ancestors(host: Agency) -> list[Agency]:
    ids = [int(pk) for pk in host.path.strip("/").split("/") if pk]
    by_id = Agency.objects.in_bulk(ids)
    ancestors = [by_id[pk] for pk in reversed(ids) if pk in by_id and pk != host.pk]
    return [host, *ancestors]


def can_control(user: User, meeting: Meeting) -> bool:
    if not role_allows(user, Action.CONTROL_MEETING):
        return False
    if is_operator(user) or sees_whole_province(user):
        return True
    controller = controlling_agency(meeting)
    return controller is not None and in_scope(user, controller)


def mailed_visible_to(user: User) -> QuerySet[MailedRegistration]:
    """Messages of the official mailbox (KH Đ13.2a): all of them for the operators, who read
    the mailbox; those of the user's agencies for everyone else."""
    if not role_allows(user, Action.VIEW_MEETING):
        return MailedRegistration.objects.none()
    if role_allows(user, Action.DECIDE_MEETING):
        return MailedRegistration.objects.all()
    return MailedRegistration.objects.filter(agency_scope_filter(user, "agency__"))


def controlling_endpoints(meeting: Meeting, agency: Agency | None = None) -> list[Endpoint]:
    """The rooms control is given to: the host endpoint when its agency controls (ĐN Đ9.1:
    "các điểm cầu chính"), else the admitted rooms of the controlling agency (KH Đ10.1,
    Đ14.3a: a district controls its communes' meetings from its own room). None when only
    the operators control the meeting (KH Đ10.1: no qualifying agency above its host).
    `agency`: the meeting's controlling agency when the caller has just looked it up."""
    agency = agency or controlling_agency(meeting)
    if agency is None:
        return []
    # Read afresh: the evaluation that gives the rights may be newer than the meeting row.
    host = list(Endpoint.objects.filter(pk=meeting.host_endpoint_id, agency=agency))
    if host:
        return host
    return list(Endpoint.objects.filter(agency=agency, status=EndpointStatus.APPROVED))


def control_standing(user: User, meeting: Meeting) -> tuple[bool, RuleViolation | None]:
    """`can_control` and `control_refusal` together, the controlling agency looked up once
    (a host's mute waits for these reads before its request to Janus): (False, None) when
    role or scope give no control; (True, refusal) otherwise, `refusal` None when the
    controlling room meets KH Đ10.2 / ĐN Đ9.2 or the user is an operator."""
    if not role_allows(user, Action.CONTROL_MEETING):
        return False, None
    if is_operator(user) or sees_whole_province(user):
        return True, None
    controller = controlling_agency(meeting)
    if controller is None or not in_scope(user, controller):
        return False, None
    return True, room_control_refusal(controlling_endpoints(meeting, controller))


def control_refusal(user: User, meeting: Meeting) -> RuleViolation | None:
    """Why `user`, who may control by role and scope, is not given control rights: the
    controlling room does not meet KH Đ10.2 / ĐN Đ9.2. The operators always control."""
    if is_operator(user) or sees_whole_province(user):
        return None
    return room_control_refusal(controlling_endpoints(meeting))
