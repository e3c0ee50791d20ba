"""What apps above `media` add to the operator console, without `media` importing them: each
registers a provider in its `AppConfig.ready` (the operations desk shows who is on duty and
the meetings no one covers). A provider gets the viewer and returns a `ConsolePanel`, or None
when it has nothing to show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from diemcau.core.models import User


@dataclass(frozen=True)
class ConsolePanel:
    # Included in the console's side column, with `context`.
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Provider = Callable[[User], ConsolePanel | None]
_providers: list[Provider] = []


def contribute(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def panels(user: User) -> list[ConsolePanel]:
    found = (provider(user) for provider in _providers)
    return [panel for panel in found if panel is not None]
