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
    "language",
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


@transaction.atomic
def set_message_language(user: User, language: str, *, actor: User) -> User:
    """The language of the e-mails and webhook messages a person receives (their own choice,
    or an administrator's)."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    from diemcau.core.errors import InvalidInput, PermissionDenied

    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied("set_message_language", _("You can only change your own settings."))
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput({"language": [_("Choose one of the languages offered.")]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.language != language:
        before = audit.snapshot(user, ["language"])
        user.language = language
        user.save(update_fields=["language"])
        audit.record("user.language", user, actor=actor, before=before,
                     after=audit.snapshot(user, ["language"]))
    return user
