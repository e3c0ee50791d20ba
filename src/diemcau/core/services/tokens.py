from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import ApiToken, User
from diemcau.core.text import refuse_hidden_characters

TOKEN_FIELDS = ["user_id", "name", "prefix", "created_at", "revoked_at"]


@transaction.atomic
def create_api_token(user: User, name: str, *, actor: User) -> tuple[ApiToken, str]:
    """A token for an integration acting as `user`. The raw token is returned only here."""
    from diemcau.core.api_auth import generate_token

    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied("create_api_token", _("You can only create your own tokens."))
    name = name.strip()
    if not name:
        raise InvalidInput({"name": [_("This field is required.")]})
    refuse_hidden_characters({"name": name})
    raw, prefix, key_hash = generate_token()
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=prefix, key_hash=key_hash)
    audit.record("api_token.create", token, actor=actor, after=audit.snapshot(token, TOKEN_FIELDS))
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if actor.pk != token.user_id and not actor.is_superuser:
        raise PermissionDenied("revoke_api_token", _("You can only revoke your own tokens."))
    if token.revoked_at is not None:
        raise InvalidTransition(_("This token is already revoked."))
    before = audit.snapshot(token, TOKEN_FIELDS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        "api_token.revoke",
        token,
        actor=actor,
        before=before,
        after=audit.snapshot(token, TOKEN_FIELDS),
    )
    return token
