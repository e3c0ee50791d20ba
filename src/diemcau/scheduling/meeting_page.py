"""What apps above `scheduling` add to the meeting page, without `scheduling` importing them:
each registers a provider in its `AppConfig.ready` (the live plane adds its join and console
buttons and the attendance section). A provider gets the viewer and the meeting and returns a
`MeetingPanel`, or None when it has nothing to show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from diemcau.core.models import User

from .models import Meeting


@dataclass(frozen=True)
class MeetingPanel:
    # Included in the page's toolbar (buttons) and in its body (a section), with `context`.
    buttons_template: str = ""
    section_template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    has_buttons: bool = False


Provider = Callable[[User, Meeting], MeetingPanel | None]
_providers: list[Provider] = []


def contribute(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def panels(user: User, meeting: Meeting) -> list[MeetingPanel]:
    found = (provider(user, meeting) for provider in _providers)
    return [panel for panel in found if panel is not None]


def page_context(user: User, meeting: Meeting) -> dict[str, Any]:
    """The panels, and their context merged in for the included templates."""
    shown = panels(user, meeting)
    context: dict[str, Any] = {}
    for panel in shown:
        context.update(panel.context)
    context["meeting_panels"] = shown
    context["panel_buttons_shown"] = any(panel.has_buttons for panel in shown)
    return context
