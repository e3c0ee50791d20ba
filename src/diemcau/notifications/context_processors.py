from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def unread_count(request: HttpRequest) -> dict[str, Any]:
    """`notifications_unread` for the bell (notifications/_bell.html); counted only when a
    template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notifications_unread": 0}
    from .selectors import unread_count as count

    return {"notifications_unread": SimpleLazyObject(lambda: count(user))}  # type: ignore[arg-type]
