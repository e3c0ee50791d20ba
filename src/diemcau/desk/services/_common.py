from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils.translation import gettext as _

from diemcau.core import date_bounds
from diemcau.core.errors import InvalidInput
from diemcau.core.text import hidden_character_errors


def check_text(
    required: Mapping[str, str] = {},  # noqa: B006 - read only
    *,
    limits: Mapping[str, tuple[str, int]] = {},  # noqa: B006 - read only
    dates: Mapping[str, dt.date | dt.datetime | None] = {},  # noqa: B006 - read only
    errors: dict[str, list[str]] | None = None,
) -> None:
    """Field errors for empty required text, text over its column, hidden characters and
    dates outside the system's window; raises `InvalidInput` when there is any."""
    errors = dict(errors or {})
    for name, value in required.items():
        if not value.strip():
            errors.setdefault(name, []).append(_("This field is required."))
    for name, (value, most) in limits.items():
        if len(value.strip()) > most:
            errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": most})
    errors.update(hidden_character_errors({**required}))
    errors.update(date_bounds.window_errors(**dates))
    if errors:
        raise InvalidInput(errors)
