"""The endpoint readiness checklist (R5, R6; ĐN Đ8.3c, Đ16.5): what an endpoint must meet
before the operator admits it and before a meeting may name it. One function says it, asked
by the services (approval, reinstatement, registration), the pages (approval, endpoint,
dashboard, the registration form's panel) and the API, so they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import Rulebook, active_rulebook

from .choices import ContactRole, EndpointStatus
from .models import Contact, Endpoint

# Statuses an endpoint reaches only through a passed evaluation (KH Đ9.3, ĐN Đ6.7).
EVALUATION_PASSED = frozenset(
    {EndpointStatus.EVALUATED, EndpointStatus.APPROVED, EndpointStatus.SUSPENDED}
)
# Where `prefetch_readiness` puts an endpoint's current contacts.
CURRENT_CONTACTS = "current_contacts"


class Stage(StrEnum):
    # The operator admits the endpoint and issues its account, or takes it back after a
    # suspension (KH Đ9.3; ĐN Đ6.7, Đ8.3c): a passed evaluation, the police security check
    # where the rulebook requires it, and the contacts it requires (KH Đ19.3, ĐN Đ16.3).
    ADMISSION = "admission"
    # A meeting names the endpoint (R5): admitted, and its security check not due (ĐN Đ8.3c,
    # Đ16.5: new, repaired or upgraded devices are checked before use).
    USE = "use"


@dataclass(frozen=True)
class Condition:
    """One line of the checklist, met or not, with the article it comes from."""

    code: str  # the refusal's code when it is not met
    label: str  # the checklist's line ("Security check passed")
    article: str
    met: bool
    message: str  # what the refusal says when it is not met
    role: ContactRole | None = None  # for a contact condition, the role it asks for

    def refusal(self, field: str | None = None) -> RuleViolation:
        return RuleViolation(code=self.code, article=self.article, message=self.message,
                             field=field)


def prefetch_readiness(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """`endpoints` with what `checklist` reads, for a list: one query, not one per endpoint."""
    current = Contact.objects.filter(active_until__isnull=True)
    return endpoints.prefetch_related(Prefetch("contacts", current, to_attr=CURRENT_CONTACTS))


def _current_roles(endpoint: Endpoint) -> set[str]:
    prefetched: list[Contact] | None = getattr(endpoint, CURRENT_CONTACTS, None)
    if prefetched is not None:
        return {contact.role for contact in prefetched}
    return set(
        endpoint.contacts.filter(active_until__isnull=True).values_list("role", flat=True)
    )


def checklist(endpoint: Endpoint, stage: Stage, rulebook: Rulebook | None = None
              ) -> list[Condition]:
    """Every condition of `stage`, met or not, in the order the services ask them."""
    rulebook = rulebook or active_rulebook()
    admission = rulebook.cite(rulebook.admission.article)
    conditions = []
    if stage == Stage.ADMISSION:
        conditions.append(Condition(
            code="endpoint_not_evaluated",
            label=_("Evaluation passed"),
            article=admission,
            met=endpoint.status in EVALUATION_PASSED,
            message=_("%(endpoint)s has not passed the operator's evaluation.")
            % {"endpoint": endpoint.name},
        ))
    else:
        conditions.append(Condition(
            code="endpoint_not_admitted",
            label=str(EndpointStatus.APPROVED.label),
            article=admission,
            met=endpoint.status == EndpointStatus.APPROVED,
            message=_("%(endpoint)s has not been admitted (approved with an account).")
            % {"endpoint": endpoint.name},
        ))
    if rulebook.security_check.required:
        conditions.append(Condition(
            code="endpoint_security_check_due",
            label=_("Security check passed"),
            article=rulebook.cite(rulebook.security_check.article),
            met=not endpoint.security_check_due,
            message=_("%(endpoint)s needs its security check before use.")
            % {"endpoint": endpoint.name},
        ))
    if stage == Stage.ADMISSION:
        conditions.extend(_contact_conditions(endpoint, rulebook))
    return conditions


def _contact_conditions(endpoint: Endpoint, rulebook: Rulebook) -> list[Condition]:
    current = _current_roles(endpoint)
    required = [ContactRole(role) for role in rulebook.contacts.required_roles]
    missing = ", ".join(str(role.label) for role in required if role not in current)
    article = rulebook.cite(rulebook.contacts.article)
    return [
        Condition(
            code="endpoint_contacts_missing",
            label=_("Current contact: %(role)s") % {"role": role.label},
            article=article,
            met=role in current,
            message=_("Assign the endpoint's contacts first: %(missing)s.")
            % {"missing": missing},
            role=role,
        )
        for role in required
    ]


@dataclass(frozen=True)
class Advice:
    """A warning that refuses nothing, with the article it comes from."""

    code: str
    article: str
    message: str


def network_advice(network: str, rulebook: Rulebook | None = None) -> Advice | None:
    """ĐN Đ6.2: "Ưu tiên sử dụng đường truyền mạng số liệu chuyên dùng tỉnh Đồng Nai": a room on
    another network is warned, not refused (Đ3.1 allows internal networks and the Internet).
    None when the network is the preferred one or the rulebook prefers none."""
    from .choices import Network

    rulebook = rulebook or active_rulebook()
    rule = rulebook.bandwidth
    preferred = rule.preferred_network
    if preferred is None or network == preferred:
        return None
    return Advice(
        code="endpoint_network_not_preferred",
        article=rulebook.cite(rule.preferred_network_article or rule.article),
        message=_("This room is not on the preferred network (%(network)s); the regulation "
                  "asks that it be used.") % {"network": Network(preferred).label},
    )


def unmet(endpoint: Endpoint, stage: Stage, rulebook: Rulebook | None = None
          ) -> list[Condition]:
    """What keeps `endpoint` from `stage` now, each with its article; empty when ready."""
    return [c for c in checklist(endpoint, stage, rulebook) if not c.met]


def readiness_refusal(endpoint: Endpoint, stage: Stage, rulebook: Rulebook | None = None, *,
                      field: str | None = None) -> RuleViolation | None:
    """The services' refusal: the first condition not met, or None."""
    missing = unmet(endpoint, stage, rulebook)
    return missing[0].refusal(field) if missing else None


def lacking(endpoints: Iterable[Endpoint], code: str, stage: Stage,
            rulebook: Rulebook | None = None) -> list[Endpoint]:
    """The endpoints of `endpoints` with an unmet condition `code` (the dashboard's lists);
    pass them through `prefetch_readiness` first."""
    rulebook = rulebook or active_rulebook()
    return [e for e in endpoints
            if any(c.code == code for c in unmet(e, stage, rulebook))]


def control_refusal(endpoints: Iterable[Endpoint], rulebook: Rulebook | None = None
                    ) -> RuleViolation | None:
    """The refusal of control rights when none of `endpoints` (the controlling rooms) meets
    the requirements for them; None when one does, or when the rulebook asks nothing.

    KH Đ10.2: "a) Phòng họp trực tuyến đáp ứng điều kiện, tiêu chuẩn quy định tại khoản 1, 2,
    3, 4 Điều 6 …; b) … 01 bộ máy tính xách tay hoạt động tốt." ĐN Đ9.2: "Đáp ứng điều kiện
    tiêu chuẩn quy định tại Khoản 1, 2, 3, 4, 5 Điều 6". The operator's latest evaluation says
    it (`Endpoint.meets_control_requirements`: every item met, the control-only ones too)."""
    rulebook = rulebook or active_rulebook()
    control = rulebook.control
    if not control.requires_room_standard:
        return None
    rooms = list(endpoints)
    if any(e.meets_control_requirements and e.status == EndpointStatus.APPROVED for e in rooms):
        return None
    equipment = control.equipment_vi if _vietnamese() else control.equipment_en
    rooms_named = ", ".join(e.name for e in rooms) or "—"
    if equipment:
        message = _("The controlling room (%(rooms)s) has no passing evaluation of the room "
                    "standard and of the equipment for control: %(equipment)s. Until the "
                    "operator records one, the operators control this meeting.") % {
            "rooms": rooms_named, "equipment": equipment}
    else:
        message = _("The controlling room (%(rooms)s) has no passing evaluation of the room "
                    "standard. Until the operator records one, the operators control this "
                    "meeting.") % {"rooms": rooms_named}
    return RuleViolation(
        code="control_room_not_evaluated",
        article=rulebook.cite(control.room_requirements_article or control.article),
        message=message,
    )


def _vietnamese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "vi").startswith("vi")
