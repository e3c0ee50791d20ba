"""What the REST API accepts: the bounded types its schemas and operations share (R22; ĐN Đ8,
KH Đ7: every bad input gets a clear 4xx, never a server error).

Every integer the API takes is bounded by what the database holds (primary keys are signed
64-bit integers on SQLite and PostgreSQL alike), so a client sending 2^63 is told which field
is wrong instead of reaching the database. Every instant in a query lies in the window of
dates the system accepts (`core.date_bounds`). The documented limits are in the OpenAPI
document, so a client can know them in advance.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, AwareDatetime

from . import date_bounds

# The largest integer a column of the database holds (BIGINT, SQLite's INTEGER).
DB_INTEGER_MAX = 2**63 - 1

# An object's id in a path, a query or a body.
Id = Annotated[int, Field(ge=1, le=DB_INTEGER_MAX)]


def _in_window(value: dt.datetime) -> dt.datetime:
    message = date_bounds.window_error(value)
    if message:
        raise ValueError(message)
    return value


# An instant given in a query (a filter, a range): with its offset, inside the window.
QueryInstant = Annotated[AwareDatetime, AfterValidator(_in_window)]


def is_id(text: str) -> bool:
    """Whether `text` is an id the database can hold: ASCII digits, 1 to 2^63 - 1."""
    return (
        text.isascii() and text.isdigit() and len(text) <= 19
        and 1 <= int(text) <= DB_INTEGER_MAX
    )


def parse_ids(text: str, *, most: int) -> list[int] | None:
    """Ids from "1,2,3": None when a part is not an id or there are not 1 to `most` of them."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(is_id(part) for part in parts):
        return None
    return [int(part) for part in parts] if 1 <= len(parts) <= most else None


def ids_message(most: int) -> str:
    return _("Give 1 to %(n)s endpoint ids separated by commas.") % {"n": most}


class Pagination(LimitOffsetPagination):
    """Ninja's limit/offset pagination with both numbers bounded (a `limit` beyond the
    operation's maximum is lowered to it, as before)."""

    class Input(Schema):
        limit: int = Field(
            ninja_settings.PAGINATION_PER_PAGE, ge=1, le=DB_INTEGER_MAX,
            description="At most this many items (the operation may give fewer)",
        )
        offset: int = Field(0, ge=0, le=DB_INTEGER_MAX, description="Items to skip")
