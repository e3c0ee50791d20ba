"""What a report covers (R21, R22): the whole province, one level, or one agency with the
units under it — always within what the reader may see (`core.permissions`).

An operator or an auditor may ask for any of them. Everyone else reports on their own agency
and, where the rulebook delegates (`scope.subordinates_for_kinds`: a district office for its
communes), on the units under it, or on one of those units; a level narrows either.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from diemcau.core.errors import PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, agency_scope_filter, role_allows, sees_whole_province
from diemcau.directory.models import Agency
from diemcau.rulebooks import Rulebook, active_rulebook


class ScopeError(ValueError):
    """A level or agency that does not exist."""


@dataclass(frozen=True)
class ReportScope:
    """`agency` None: the whole province. `with_units`: the agency and every unit under it
    (its materialised path), else the agency alone. `level`: only agencies of that level."""

    agency: Agency | None = None
    with_units: bool = True
    level: str = ""

    # -- reading and checking

    @classmethod
    def for_user(cls, user: User, *, level: str = "", agency: Agency | int | None = None,
                 rulebook: Rulebook | None = None) -> ReportScope:
        """The scope `user` asks for, or PermissionDenied when it reaches beyond theirs.
        Without an agency, a province-wide reader gets the province and anyone else their
        own agency."""
        rulebook = rulebook or active_rulebook()
        if level and level not in {lv.key for lv in rulebook.levels}:
            raise ScopeError(_("%(level)s is not a level of this regulation.") % {"level": level})
        if isinstance(agency, int):
            found = Agency.objects.filter(pk=agency).first()
            if found is None:
                raise ScopeError(_("There is no such agency."))
            agency = found
        if not may_view_reports(user):
            raise PermissionDenied(str(Action.VIEW_MEETING), _("You may not see reports."))
        whole = sees_whole_province(user)
        if agency is None:
            if whole:
                return cls(None, True, level)
            if user.agency is None:
                raise PermissionDenied(str(Action.VIEW_MEETING),
                                       _("Your account belongs to no agency."))
            agency = user.agency
        scope = cls(agency, _units_allowed(user, agency, rulebook), level)
        if not scope.allowed_for(user, rulebook):
            raise PermissionDenied(
                str(Action.VIEW_MEETING),
                _("You may only report on your own agency and the units under it."),
            )
        return scope

    def allowed_for(self, user: User, rulebook: Rulebook | None = None) -> bool:
        """Whether every agency of the scope lies in the user's scope."""
        if not may_view_reports(user):
            return False
        if sees_whole_province(user):
            return True
        own = user.agency
        if own is None or self.agency is None:
            return False
        rulebook = rulebook or active_rulebook()
        if self.agency.pk == own.pk and not self.with_units:
            return True
        delegated = own.kind in rulebook.scope.subordinates_for_kinds
        return delegated and self.agency.path.startswith(own.path)

    # -- what it covers

    def agency_filter(self, rulebook: Rulebook, prefix: str = "") -> Q:
        """A filter on Agency (or through `prefix`, e.g. "host_agency__") for this scope."""
        q = Q()
        if self.agency is not None:
            q &= (Q(**{f"{prefix}path__startswith": self.agency.path}) if self.with_units
                  else Q(**{f"{prefix}pk": self.agency.pk}))
        if self.level:
            q &= Q(**{f"{prefix}kind__in": rulebook.kinds_for_level(self.level)})
        return q

    @property
    def is_everything(self) -> bool:
        return self.agency is None and not self.level

    def agencies(self, rulebook: Rulebook) -> QuerySet[Agency]:
        return Agency.objects.filter(self.agency_filter(rulebook))

    def label(self, rulebook: Rulebook) -> str:
        from diemcau.ui.templatetags.diemcau_ui import bilingual

        parts = []
        if self.agency is None:
            parts.append(_("Province of %(name)s") % {"name": rulebook.province_name})
        elif self.with_units:
            parts.append(_("%(agency)s and the units under it") % {"agency": self.agency.name})
        else:
            parts.append(self.agency.name)
        if self.level:
            parts.append(bilingual(rulebook.level(self.level), "label"))
        return " · ".join(parts)

    def query(self) -> dict[str, str]:
        """The scope as the page's and the API's query parameters."""
        data = {}
        if self.agency is not None:
            data["agency"] = str(self.agency.pk)
        if self.level:
            data["level"] = self.level
        return data

    def as_json(self, rulebook: Rulebook) -> dict[str, object]:
        return {
            "agency_id": self.agency.pk if self.agency else None,
            "agency": self.agency.name if self.agency else "",
            "with_units": self.with_units,
            "level": self.level,
            "label": self.label(rulebook),
        }


def _units_allowed(user: User, agency: Agency, rulebook: Rulebook) -> bool:
    if sees_whole_province(user):
        return True
    own = user.agency
    return bool(own and own.kind in rulebook.scope.subordinates_for_kinds
                and agency.path.startswith(own.path))


def may_view_reports(user: User) -> bool:
    """Whoever may see meetings sees the reports of their scope (R21, R22)."""
    return role_allows(user, Action.VIEW_MEETING)


def may_make_reports(user: User) -> bool:
    """Storing a report (on demand, or again) is for the operators, who report to the
    province (ĐN Đ14.4, KH Đ17.2d), and for agency offices on their own figures (KH Đ19.5)."""
    return role_allows(user, Action.DECIDE_MEETING) or role_allows(user, Action.REGISTER_MEETING)


def agencies_to_choose(user: User) -> QuerySet[Agency]:
    """The agencies the filter offers: the user's scope (`core.permissions`)."""
    if not may_view_reports(user):
        return Agency.objects.none()
    return Agency.objects.filter(agency_scope_filter(user)).order_by("path")
