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


# ---------------------------------------------------------------- lists of meetings


@dataclass(frozen=True)
class LiveEntry:
    """A way into a meeting that is on now, for the lists of meetings (the dashboard, the
    meeting list): "Vào họp" for who may connect one of its endpoints."""

    url: str
    label: str
    icon: str = "camera-video-fill"
    kind: str = "join"


LiveEntries = Callable[[User, list[Meeting]], dict[int, LiveEntry]]
_live_entries: list[LiveEntries] = []


def contribute_live_entries(provider: LiveEntries) -> None:
    if provider not in _live_entries:
        _live_entries.append(provider)


def attach_live_entries(user: User, meetings: Any) -> None:
    """Set `live_entry` (a `LiveEntry` or None) on each meeting of a list, for its
    template."""
    shown = list(meetings)
    found: dict[int, LiveEntry] = {}
    for provider in _live_entries:
        for pk, entry in provider(user, shown).items():
            found.setdefault(pk, entry)
    for meeting in shown:
        meeting.live_entry = found.get(meeting.pk)  # type: ignore[attr-defined]
