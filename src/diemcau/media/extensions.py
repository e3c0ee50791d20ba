"""What apps above the live plane add to the host console and the participants' room, without
`media` importing them (the session's script, for one). Each registers in its
`AppConfig.ready`:

- `contribute_state(key, provider)`: `provider(meeting, user)` gives a dictionary sent with
  the console's state under `extras[key]` — on the first render and on every change;
- `contribute_participant_state(key, provider)`: the same for each participant's page
  (`provider(participation)`), so what it shows stays live;
- `contribute_action(name, action)`: a console action on the same WebSocket, run as
  `action(user, meeting, message)` (a service call: it checks rights and rules itself);
- `contribute_panel(provider)`: a section of the console (`provider(user, meeting)`) or of the
  room (`provider(None, meeting)`), with its own static script.

The scripts read the state from the `diemcau:live-state` event the console and the room
dispatch on `document` with every state, and the console's `window.DiemcauConsole.call`
sends an action. An app that changes what it contributes calls `broadcast.meeting_changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from diemcau.core.models import User
from diemcau.scheduling.models import Meeting

if TYPE_CHECKING:
    from .models import Participation

StateProvider = Callable[[Meeting, User | None], dict[str, Any] | None]
ParticipantProvider = Callable[["Participation"], dict[str, Any] | None]
ConsoleAction = Callable[[User, Meeting, dict[str, Any]], None]


@dataclass(frozen=True)
class Panel:
    """A section included in the console or the room, with its context and its script."""

    template: str
    script: str = ""
    context: dict[str, Any] = field(default_factory=dict)


PanelProvider = Callable[[User | None, Meeting], Panel | None]

_state: dict[str, StateProvider] = {}
_participant_state: dict[str, ParticipantProvider] = {}
_actions: dict[str, ConsoleAction] = {}
_console_panels: list[PanelProvider] = []
_room_panels: list[PanelProvider] = []


def contribute_state(key: str, provider: StateProvider) -> None:
    _state[key] = provider


def contribute_participant_state(key: str, provider: ParticipantProvider) -> None:
    _participant_state[key] = provider


def contribute_action(name: str, action: ConsoleAction) -> None:
    _actions[name] = action


def contribute_panel(provider: PanelProvider, *, console: bool = True, room: bool = False
                     ) -> None:
    if console and provider not in _console_panels:
        _console_panels.append(provider)
    if room and provider not in _room_panels:
        _room_panels.append(provider)


def console_extras(meeting: Meeting, user: User | None) -> dict[str, Any]:
    found = ((key, provider(meeting, user)) for key, provider in _state.items())
    return {key: value for key, value in found if value is not None}


def participant_extras(participation: Participation) -> dict[str, Any]:
    found = ((key, provider(participation)) for key, provider in _participant_state.items())
    return {key: value for key, value in found if value is not None}


def action(name: str) -> ConsoleAction | None:
    return _actions.get(name)


def console_panels(user: User, meeting: Meeting) -> list[Panel]:
    found = (provider(user, meeting) for provider in _console_panels)
    return [panel for panel in found if panel is not None]


def room_panels(meeting: Meeting) -> list[Panel]:
    found = (provider(None, meeting) for provider in _room_panels)
    return [panel for panel in found if panel is not None]
