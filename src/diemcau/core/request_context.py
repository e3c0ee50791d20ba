"""Who is acting and from where, for the audit log.

A context variable, set per request by the middleware (or by a command), so it is never
shared between requests, threads or processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_client_address: ContextVar[str | None] = ContextVar("diemcau_client_address", default=None)


def client_address() -> str | None:
    return _client_address.get()


@contextmanager
def acting_from(address: str | None) -> Iterator[None]:
    token = _client_address.set(address)
    try:
        yield
    finally:
        _client_address.reset(token)
