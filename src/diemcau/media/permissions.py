"""Who may join a live meeting, and who may control it (R16, R17).

Control follows the rulebook's delegation: the controlling agency of a meeting is the nearest
agency, from the host upwards, whose level the rulebook gives control rights to. In KH a
commune-hosted meeting is therefore controlled by its district (Đ14.3a); in ĐN, where control
is delegated down to communes, by the commune itself. MCU operators may act on any meeting.
"""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, in_scope, role_allows, sees_whole_province
from diemcau.directory.models import Agency, Endpoint
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.models import Meeting


def controlling_agency(meeting: Meeting) -> Agency:
    """The agency whose technicians control the meeting (ĐN Đ9, KH Đ14.3a)."""
    rulebook = active_rulebook()
    control = rulebook.control
    host = meeting.host_agency
    chain = _host_and_ancestors(host)
    for agency in chain:
        level = rulebook.kind_levels.get(agency.kind)
        if level == "commune" and control.commune_hosted_controlled_by == "district":
            continue  # KH Đ14.3a: the district's technician controls commune meetings
        if level in control.controller_levels:
            return agency
    return chain[-1]  # no level with control rights: the top of the tree (the operators)


def _host_and_ancestors(host: Agency) -> list[Agency]:
    ids = [int(pk) for pk in host.path.strip("/").split("/") if pk]
    by_id = Agency.objects.in_bulk(ids)
    ancestors = [by_id[pk] for pk in reversed(ids) if pk in by_id and pk != host.pk]
    return [host, *ancestors]


def is_operator(user: User) -> bool:
    """MCU operators (and administrators) act on every meeting (R16)."""
    return role_allows(user, Action.MANAGE_MCU)


def can_control(user: User, meeting: Meeting) -> bool:
    if not role_allows(user, Action.CONTROL_MEETING):
        return False
    if is_operator(user) or sees_whole_province(user):
        return True
    return in_scope(user, controlling_agency(meeting))


def joinable_endpoints(user: User, meeting: Meeting) -> QuerySet[Endpoint]:
    """The endpoints of the meeting (host and participants) the user may connect by login:
    those of agencies in the user's scope (an operator may connect any)."""
    if not role_allows(user, Action.JOIN_MEETING):
        return Endpoint.objects.none()
    ids = set(meeting.participants.values_list("pk", flat=True))
    if meeting.host_endpoint_id:
        ids.add(meeting.host_endpoint_id)
    endpoints = Endpoint.objects.filter(pk__in=ids).select_related("agency")
    if is_operator(user) or sees_whole_province(user):
        return endpoints
    return endpoints.filter(
        pk__in=[e.pk for e in endpoints if in_scope(user, e.agency)]
    )
