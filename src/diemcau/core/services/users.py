from __future__ import annotations

from django.db import transaction

from diemcau.core import audit
from diemcau.core.models import User
from diemcau.core.permissions import Action, require

USER_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "agency_id",
    "phone",
    "is_active",
    "is_staff",
    "is_superuser",
]


@transaction.atomic
def save_user(user: User, *, actor: User, before: dict | None) -> User:
    """Create or change an account (from the admin site); only administrators may."""
    require(actor, Action.MANAGE_USERS)
    created = user.pk is None
    user.save()
    audit.record(
        "user.create" if created else "user.update",
        user,
        actor=actor,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user
