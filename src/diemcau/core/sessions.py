"""Keeping a sign-in alive from outside a request (the live consoles' WebSockets)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY

from .middleware import note_activity


def keep_session_alive(session_key: str | None, user_id: int, *, every: int = 300) -> bool:
    """Renew the idle timeout of the session `session_key` if it still signs `user_id` in.
    At most one write per `every` seconds. True when renewed."""
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(store.get(SESSION_KEY)) != str(user_id):
        return False  # signed out (or another user) meanwhile: nothing to keep
    if not note_activity(store, every=every):
        return False
    store.save()
    return True
