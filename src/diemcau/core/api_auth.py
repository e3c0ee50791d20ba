"""Who is calling the REST API: an API token (integrations) or the pages' session (R22).

Tokens look like ``dc_<prefix>_<secret>``. Only the prefix (to find the row) and the SHA-256 of
the whole token are stored, so a copy of the database does not give working tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from . import two_factor
from .models import ApiToken, User

TOKEN_SCHEME = "dc"
# How often last_used_at is written: once a minute is precise enough to see that a token is
# in use, and it spares the database a write on every call of a busy integration.
LAST_USED_RESOLUTION = timedelta(minutes=1)
HEX_DIGITS = frozenset("0123456789abcdef")
PREFIX_MAX = 20


def hash_token(raw: str) -> str:
    """The stored form of a token: SHA-256 of the whole token, hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def generate_token() -> tuple[str, str, str]:
    """A new token: (raw token to show once, prefix to store, key_hash to store)."""
    # Hex prefix: never contains "_", so the token splits unambiguously.
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_SCHEME}_{prefix}_{secret}"
    return raw, prefix, hash_token(raw)


def split_token(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME or not parts[1] or not parts[2]:
        return None
    if len(parts[1]) > PREFIX_MAX or not set(parts[1]) <= HEX_DIGITS:
        return None  # not a prefix generate_token makes: never sent to the database
    return parts[1], parts[2]


def user_for_token(raw: str) -> User | None:
    """The active user a valid, unrevoked token belongs to; None for anything else."""
    parts = split_token(raw)
    if parts is None:
        return None
    prefix = parts[0]
    presented = hash_token(raw.strip())
    candidates = ApiToken.objects.select_related("user").filter(
        prefix=prefix, revoked_at__isnull=True
    )
    for token in candidates:
        if hmac.compare_digest(presented, token.key_hash):
            user = token.user
            if not user.is_active:
                return None
            now = timezone.now()
            if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
                # Bookkeeping of the credential itself, not a change of domain data: no audit.
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            return user
    return None


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer dc_<prefix>_<secret>``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_token(token)


class SessionUserAuth(SessionAuth):
    """Django's session, as ninja's ``django_auth``, with CSRF checked for unsafe methods.

    Unlike ninja's class, an anonymous caller is refused with 401 before any CSRF check, so a
    missing login never shows up as a CSRF failure; a signed-in caller still needs the CSRF
    token for POST/PATCH/DELETE.
    """

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if not two_factor.satisfied(user, request.session):
            return None  # a role that needs a second factor, and a session without one
        return super().__call__(request)


api_token_auth = ApiTokenAuth()
session_auth = SessionUserAuth()

# Order matters: a request with a token never needs the CSRF check of the session.
API_AUTH = [api_token_auth, session_auth]
