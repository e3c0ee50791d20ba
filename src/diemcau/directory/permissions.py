"""Scoped querysets and predicates for the directory, built on `diemcau.core.permissions`.

Lists, detail pages, the API and exports all start from these, so a list never shows what
the detail page would refuse.
"""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, can, restrict, role_allows

from .models import Agency, Contact, Endpoint


def agencies_visible_to(user: User) -> QuerySet[Agency]:
    """The agency tree is the province's public organisation chart: every signed-in role
    may browse it. What belongs to an agency (endpoints, contacts) is scoped."""
    if not role_allows(user, Action.VIEW_AGENCY):
        return Agency.objects.none()
    return Agency.objects.all()


def agencies_user_can(user: User, action: Action) -> QuerySet[Agency]:
    """Agencies on which `user` may take `action` (e.g. register an endpoint for)."""
    return restrict(Agency.objects.all(), user, action, "")


def endpoints_visible_to(user: User) -> QuerySet[Endpoint]:
    return restrict(Endpoint.objects.all(), user, Action.VIEW_ENDPOINT, "agency__")


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return restrict(Contact.objects.all(), user, Action.VIEW_CONTACTS, "endpoint__agency__")


def can_on_endpoint(user: User, action: Action, endpoint: Endpoint) -> bool:
    return can(user, action, endpoint.agency)
