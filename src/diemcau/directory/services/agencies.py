from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.core.text import refuse_hidden_characters
from diemcau.rulebooks import active_rulebook

from ..models import Agency

AGENCY_FIELDS = [
    "name",
    "kind",
    "abbreviation",
    "parent_id",
    "admin_code",
    "division_type",
    "is_active",
]


@dataclass
class AgencyInput:
    name: str
    kind: str
    parent: Agency | None = None
    abbreviation: str = ""
    admin_code: int | None = None
    division_type: str = ""
    is_active: bool = True


def _check_kind(kind: str) -> None:
    rulebook = active_rulebook()
    if kind not in rulebook.kind_levels:
        raise RuleViolation(
            code="agency_kind_not_in_rulebook",
            article=rulebook.cite(rulebook.levels_article),
            message=_("This kind of agency has no level in this province's regulation."),
            field="kind",
        )


def _check_parent(agency: Agency | None, parent: Agency | None) -> None:
    if parent is None or agency is None or agency.pk is None:
        return
    if parent.pk == agency.pk or parent.path.startswith(agency.path):
        raise InvalidInput({"parent": [_("An agency cannot be placed under itself.")]})


def _apply(agency: Agency, data: AgencyInput) -> None:
    name = data.name.strip()
    if not name:
        raise InvalidInput({"name": [_("This field is required.")]})
    refuse_hidden_characters({"name": name, "abbreviation": data.abbreviation})
    agency.name = name
    agency.kind = data.kind
    agency.parent = data.parent
    agency.abbreviation = data.abbreviation.strip()
    agency.admin_code = data.admin_code
    agency.division_type = data.division_type.strip()
    agency.is_active = data.is_active


def _rebuild_paths(agency: Agency) -> None:
    """Set the materialized path of `agency` and of all agencies below it."""
    old_prefix = agency.path
    parent_path = agency.parent.path if agency.parent_id and agency.parent else "/"
    agency.path = f"{parent_path}{agency.pk}/"
    agency.save(update_fields=["path"])
    if old_prefix not in ("/", agency.path):
        for child in Agency.objects.filter(path__startswith=old_prefix).exclude(pk=agency.pk):
            child.path = agency.path + child.path[len(old_prefix) :]
            child.save(update_fields=["path"])


@transaction.atomic
def create_agency(data: AgencyInput, *, actor: User | None) -> Agency:
    """Create an agency. `actor=None` only for the system itself (the data import)."""
    if actor is not None:
        require(actor, Action.MANAGE_AGENCY)
    _check_kind(data.kind)
    agency = Agency()
    _apply(agency, data)
    if Agency.objects.filter(parent=data.parent, name=agency.name).exists():
        raise InvalidInput({"name": [_("An agency with this name already exists here.")]})
    agency.save()
    _rebuild_paths(agency)
    audit.record("agency.create", agency, actor=actor, after=audit.snapshot(agency, AGENCY_FIELDS))
    return agency


@transaction.atomic
def update_agency(agency: Agency, data: AgencyInput, *, actor: User) -> Agency:
    require(actor, Action.MANAGE_AGENCY)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = audit.snapshot(agency, AGENCY_FIELDS)
    _check_kind(data.kind)
    _check_parent(agency, data.parent)
    parent_changed = (data.parent.pk if data.parent else None) != agency.parent_id
    _apply(agency, data)
    duplicate = Agency.objects.filter(parent=data.parent, name=agency.name).exclude(pk=agency.pk)
    if duplicate.exists():
        raise InvalidInput({"name": [_("An agency with this name already exists here.")]})
    agency.save()
    if parent_changed:
        _rebuild_paths(agency)
    audit.record(
        "agency.update",
        agency,
        actor=actor,
        before=before,
        after=audit.snapshot(agency, AGENCY_FIELDS),
    )
    return agency
