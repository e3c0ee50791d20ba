"""Reading a report's period and scope from a request's parameters, the same way for the
pages and the API: `period` ("2025-H1", "2025", "2025-01-01..2025-03-31") or `from` and `to`,
`level` and `agency`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core.models import User
from diemcau.rulebooks import Rulebook, active_rulebook

from . import periods
from .basis import Basis
from .scope import ReportScope, ScopeError


class BadParameters(ValueError):
    """A period, level or agency that cannot be read; the message says which."""


def today(rulebook: Rulebook) -> dt.date:
    return timezone.localtime(timezone.now(), periods.zone_of(rulebook)).date()


def read_period(query: Mapping[str, str], rulebook: Rulebook) -> periods.Period:
    first, last = (query.get("from") or "").strip(), (query.get("to") or "").strip()
    try:
        if first or last:
            if not (first and last):
                raise BadParameters(_("Give both the first and the last day."))
            return periods.parse(f"{first}..{last}")
        if query.get("period"):
            return periods.parse(query["period"])
    except periods.PeriodError as exc:
        raise BadParameters(str(exc)) from None
    return periods.current_default(rulebook, today(rulebook))


def read_basis(user: User | None, query: Mapping[str, str]) -> Basis:
    """The period and scope `query` asks for, as `user` may see them (PermissionDenied when
    the scope reaches beyond theirs)."""
    rulebook = active_rulebook()
    period = read_period(query, rulebook)
    agency_text = (query.get("agency") or "").strip()
    agency: int | None = None
    if agency_text:
        if not agency_text.isdigit() or len(agency_text) > 12:
            raise BadParameters(_("There is no such agency."))
        agency = int(agency_text)
    try:
        if user is None:
            scope = ReportScope(None, True, query.get("level") or "")
        else:
            scope = ReportScope.for_user(user, level=(query.get("level") or "").strip(),
                                         agency=agency, rulebook=rulebook)
    except ScopeError as exc:
        raise BadParameters(str(exc)) from None
    return Basis(period, scope, user=user, rulebook=rulebook)


def link_base(basis: Basis) -> dict[str, str]:
    """The period and scope as query parameters (the figures' links keep them)."""
    return {"period": basis.period.key, **basis.scope.query()}


def period_choices(rulebook: Rulebook, day: dt.date, years: int = 4) -> list[periods.Period]:
    """The periodic periods to offer, newest first: each length the rulebook names (ĐN
    Đ14.4, KH Đ17.2d: 6 and 12 months) over the last few years."""
    found: list[periods.Period] = []
    for months in sorted(set(rulebook.reporting.period_months)):
        period = periods.periodic(months, day)
        while period.first.year > day.year - years:
            found.append(period)
            period = period.previous()
    return sorted(found, key=lambda p: (p.first, -p.months), reverse=True)
