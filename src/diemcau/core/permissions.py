"""The one permissions module (R22): which role may do what, on which agencies.

Pages, the API, the admin and services all ask here. An action is allowed when the user's
role grants it (ROLE_ACTIONS, the role × action matrix) and the object lies in the user's
scope: province-wide roles see the whole province, everyone else their own agency and — where
the rulebook delegates (`scope.subordinates_for_kinds`) — its subordinate units.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import PermissionDenied
from .roles import Role

if TYPE_CHECKING:
    from .models import User


class Agency(Protocol):
    """What scope checks read of an agency (`directory.Agency`, which stands above core):
    its key, its kind and its materialised path "/1/7/42/" in the tree of agencies."""

    pk: Any
    kind: str
    path: str


class Action(StrEnum):
    VIEW_AGENCY = "view_agency"
    MANAGE_AGENCY = "manage_agency"
    VIEW_ENDPOINT = "view_endpoint"
    REGISTER_ENDPOINT = "register_endpoint"
    EDIT_ENDPOINT = "edit_endpoint"
    EVALUATE_ENDPOINT = "evaluate_endpoint"
    APPROVE_ENDPOINT = "approve_endpoint"
    SUSPEND_ENDPOINT = "suspend_endpoint"
    RECORD_SECURITY_CHECK = "record_security_check"
    RECORD_QUOTA_EXCEPTION = "record_quota_exception"
    VIEW_CONTACTS = "view_contacts"
    MANAGE_CONTACTS = "manage_contacts"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    VIEW_MEETING = "view_meeting"
    REGISTER_MEETING = "register_meeting"
    DECIDE_MEETING = "decide_meeting"
    RECORD_CHECK = "record_check"
    REPORT_INCIDENT = "report_incident"
    MANAGE_INCIDENT = "manage_incident"
    MANAGE_MCU = "manage_mcu"
    JOIN_MEETING = "join_meeting"
    CONTROL_MEETING = "control_meeting"
    # The operations desk: equipment register and plans (ĐN Đ16.4, KH Đ19.4), the duty roster
    # (ĐN Đ12.1, KH Đ14.1), line providers (ĐN Đ12.2d, KH Đ14.3d), training (ĐN Đ16.3).
    VIEW_EQUIPMENT = "view_equipment"
    MANAGE_EQUIPMENT = "manage_equipment"
    MANAGE_DUTY = "manage_duty"
    MANAGE_PROVIDERS = "manage_providers"
    RECORD_TRAINING = "record_training"


# What each action is called when a refusal names it (a 403 says "register an endpoint", never
# the internal "register_endpoint"): lazy, so it is said in the reader's language.
ACTION_LABELS: dict[Action, Any] = {
    Action.VIEW_AGENCY: gettext_lazy("view agencies"),
    Action.MANAGE_AGENCY: gettext_lazy("manage agencies"),
    Action.VIEW_ENDPOINT: gettext_lazy("view endpoints"),
    Action.REGISTER_ENDPOINT: gettext_lazy("register an endpoint"),
    Action.EDIT_ENDPOINT: gettext_lazy("edit an endpoint"),
    Action.EVALUATE_ENDPOINT: gettext_lazy("evaluate an endpoint"),
    Action.APPROVE_ENDPOINT: gettext_lazy("admit an endpoint"),
    Action.SUSPEND_ENDPOINT: gettext_lazy("suspend an endpoint"),
    Action.RECORD_SECURITY_CHECK: gettext_lazy("record a security check"),
    Action.RECORD_QUOTA_EXCEPTION: gettext_lazy("record a quota exception"),
    Action.VIEW_CONTACTS: gettext_lazy("view contacts"),
    Action.MANAGE_CONTACTS: gettext_lazy("manage contacts"),
    Action.VIEW_AUDIT: gettext_lazy("read the audit log"),
    Action.MANAGE_USERS: gettext_lazy("manage users"),
    Action.VIEW_MEETING: gettext_lazy("view meetings"),
    Action.REGISTER_MEETING: gettext_lazy("register or change a meeting"),
    Action.DECIDE_MEETING: gettext_lazy("accept or refuse a meeting"),
    Action.RECORD_CHECK: gettext_lazy("record a technical check"),
    Action.REPORT_INCIDENT: gettext_lazy("report an incident"),
    Action.MANAGE_INCIDENT: gettext_lazy("handle incidents"),
    Action.MANAGE_MCU: gettext_lazy("manage the MCU"),
    Action.JOIN_MEETING: gettext_lazy("join a meeting"),
    Action.CONTROL_MEETING: gettext_lazy("control a meeting"),
    Action.VIEW_EQUIPMENT: gettext_lazy("view the equipment register"),
    Action.MANAGE_EQUIPMENT: gettext_lazy("manage equipment and maintenance"),
    Action.MANAGE_DUTY: gettext_lazy("manage the duty roster"),
    Action.MANAGE_PROVIDERS: gettext_lazy("manage line providers"),
    Action.RECORD_TRAINING: gettext_lazy("record a training"),
}


def action_label(action: str) -> str:
    """The action in words, in the active language; an action outside `Action` (a service's
    own, such as "join") reads as a generic "do this"."""
    try:
        return str(ACTION_LABELS[Action(action)])
    except (ValueError, KeyError):
        return _("do this")


def denial_message(action: str) -> str:
    """What a refusal of `action` says when its service gave no reason of its own."""
    return _("You are not allowed to %(action)s.") % {"action": action_label(action)}


_EVERYONE_READS = {
    Action.VIEW_AGENCY,
    Action.VIEW_ENDPOINT,
    Action.VIEW_CONTACTS,
    Action.VIEW_MEETING,
    Action.VIEW_EQUIPMENT,
}
_AGENCY_STAFF_WRITES = {
    Action.REGISTER_ENDPOINT,
    Action.EDIT_ENDPOINT,
    Action.MANAGE_CONTACTS,
    Action.MANAGE_EQUIPMENT,
}
_OPERATOR_WRITES = {
    Action.DECIDE_MEETING,
    Action.MANAGE_INCIDENT,
    Action.MANAGE_MCU,
    Action.EVALUATE_ENDPOINT,
    Action.APPROVE_ENDPOINT,
    Action.SUSPEND_ENDPOINT,
    Action.RECORD_SECURITY_CHECK,
    Action.RECORD_QUOTA_EXCEPTION,
    Action.MANAGE_DUTY,
    Action.MANAGE_PROVIDERS,
    Action.RECORD_TRAINING,
}

# Offices register meetings (ĐN Đ10, KH Đ12); technicians run the rooms and their checks.
# Both connect their agency's rooms; only technicians run a session's controls (ĐN Đ12,
# KH Đ14: the host endpoint's technician controls the session by the script).
_OFFICE_WRITES = {Action.REGISTER_MEETING, Action.REPORT_INCIDENT, Action.JOIN_MEETING}
_TECHNICIAN_WRITES = {
    Action.RECORD_CHECK,
    Action.REPORT_INCIDENT,
    Action.JOIN_MEETING,
    Action.CONTROL_MEETING,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OPERATOR: frozenset(
        _EVERYONE_READS
        | _AGENCY_STAFF_WRITES
        | _OPERATOR_WRITES
        | _OFFICE_WRITES
        | _TECHNICIAN_WRITES
    ),
    Role.OFFICE: frozenset(_EVERYONE_READS | _AGENCY_STAFF_WRITES | _OFFICE_WRITES),
    Role.TECHNICIAN: frozenset(_EVERYONE_READS | _AGENCY_STAFF_WRITES | _TECHNICIAN_WRITES),
    # Auditors read everything and change nothing.
    Role.AUDITOR: frozenset(_EVERYONE_READS | {Action.VIEW_AUDIT}),
}


def role_allows(user: User | Any, action: Action) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return action in ROLE_ACTIONS[role]


def users_who_may(action: Action) -> QuerySet[Any]:
    """Active users allowed `action` by their role, and active superusers (who may do
    everything): the inverse of `role_allows`, in one query."""
    from .models import User

    roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
    return User.objects.filter(Q(role__in=roles) | Q(is_superuser=True), is_active=True)


def operators() -> QuerySet[Any]:
    """The MCU operators, one meaning everywhere (R16: the operator on duty decides bookings,
    monitors the nodes, receives escalations): whoever may manage the MCU."""
    return users_who_may(Action.MANAGE_MCU)


def is_operator(user: User | Any) -> bool:
    return role_allows(user, Action.MANAGE_MCU)


def sees_whole_province(user: User) -> bool:
    return bool(user.is_superuser or user.is_province_wide)


def agency_scope_filter(user: User, prefix: str = "") -> Q:
    """A filter on Agency (or on a model reaching Agency through `prefix`) for user's scope."""
    from diemcau.rulebooks import active_rulebook

    if sees_whole_province(user):
        return Q()
    agency = user.agency
    if agency is None:
        return Q(pk__in=[])  # a user of no agency sees nothing of any agency
    if agency.kind in active_rulebook().scope.subordinates_for_kinds:
        return Q(**{f"{prefix}path__startswith": agency.path})
    return Q(**{f"{prefix}pk": agency.pk})


def in_scope(user: User, agency: Agency) -> bool:
    from diemcau.rulebooks import active_rulebook

    if sees_whole_province(user):
        return True
    own = user.agency
    if own is None:
        return False
    if own.pk == agency.pk:
        return True
    subordinates = active_rulebook().scope.subordinates_for_kinds
    return own.kind in subordinates and agency.path.startswith(own.path)


def covering_users_filter(agencies: Iterable[Agency]) -> Q:
    """A filter on User: the local users whose scope covers one of `agencies` — members of
    the agency, and members of an ancestor whose kind the rulebook delegates to. The inverse
    of `agency_scope_filter`, in one query."""
    from diemcau.rulebooks import active_rulebook

    delegating = active_rulebook().scope.subordinates_for_kinds
    own: set[int] = set()
    ancestors: set[int] = set()
    for agency in agencies:
        own.add(agency.pk)
        ancestors.update(int(pk) for pk in agency.path.strip("/").split("/") if pk)
    return Q(agency_id__in=own) | Q(agency_id__in=ancestors, agency__kind__in=delegating)


def can(user: User, action: Action, agency: Agency | None = None) -> bool:
    """May `user` do `action` (on something belonging to `agency`, when given)?"""
    if not role_allows(user, action):
        return False
    return agency is None or in_scope(user, agency)


def require(user: User, action: Action, agency: Agency | None = None) -> None:
    if not can(user, action, agency):
        raise denied(action)


def denied(action: Action) -> PermissionDenied:
    """The refusal of `action` to a user without the right (a service raises it when a
    permission predicate says no)."""
    return PermissionDenied(
        action=str(action),
        message=_("You are not allowed to %(action)s for this agency.")
        % {"action": action_label(action)},
    )


def restrict(
    queryset: QuerySet[Any], user: User, action: Action, agency_path: str
) -> QuerySet[Any]:
    """Scope a queryset: nothing when the role lacks `action`, else the user's agencies.

    `agency_path` is the lookup from the queryset's model to Agency ("" for Agency itself,
    "agency__" for Endpoint, "endpoint__agency__" for Contact).
    """
    if not role_allows(user, action):
        return queryset.none()
    return queryset.filter(agency_scope_filter(user, agency_path))
