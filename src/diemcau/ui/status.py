"""One colour per status, the same everywhere: badges, the dashboard, the calendar, the live
consoles (through `palette()`, which the base page hands to JavaScript).

The UI toolkit knows no domain app. Each app registers its statuses once, in its
`AppConfig.ready`, with the colour of each value:

    status.register("meeting", MeetingStatus, MEETING_STATUS_COLOURS)

Colours are Bootstrap's theme names (badges use `text-bg-<name>`); the calendar, which draws
outside Bootstrap's classes, takes the same colours as hex values from `THEME`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import TextChoices


@dataclass(frozen=True)
class Tone:
    background: str
    text: str
    border: str


# Bootstrap 5.3's theme colours (the vendored bootstrap.min.css).
THEME: dict[str, Tone] = {
    "primary": Tone("#0d6efd", "#ffffff", "#0d6efd"),
    "secondary": Tone("#6c757d", "#ffffff", "#6c757d"),
    "success": Tone("#198754", "#ffffff", "#198754"),
    "danger": Tone("#dc3545", "#ffffff", "#dc3545"),
    "warning": Tone("#ffc107", "#212529", "#ffc107"),
    "info": Tone("#0dcaf0", "#212529", "#0dcaf0"),
    "light": Tone("#f8f9fa", "#212529", "#adb5bd"),
    "dark": Tone("#212529", "#ffffff", "#212529"),
}
# Colours whose badge needs dark text (Bootstrap's text-bg-* sets it; kept for bars).
DARK_TEXT = frozenset(name for name, tone in THEME.items() if tone.text == "#212529")
FALLBACK = "secondary"


@dataclass(frozen=True)
class _Kind:
    choices: type[TextChoices]
    colours: Mapping[str, str]


_KINDS: dict[str, _Kind] = {}


def register(kind: str, choices: type[TextChoices], colours: Mapping[Any, str]) -> None:
    """Give every value of `choices` its colour. A value without one, or a colour that is not
    a theme colour, is a programming error caught at start-up."""
    missing = sorted(set(choices.values) - set(colours))
    unknown = sorted(c for c in colours.values() if c not in THEME)
    if missing or unknown:
        raise ValueError(f"status colours of {kind!r}: missing {missing}, unknown {unknown}")
    _KINDS[kind] = _Kind(choices, {str(k): v for k, v in colours.items()})


def colour(kind: str, value: object) -> str:
    entry = _KINDS.get(kind)
    if entry is None:
        return FALLBACK
    return entry.colours.get(str(value), FALLBACK)


def label(kind: str, value: object) -> str:
    entry = _KINDS.get(kind)
    if entry is None or str(value) not in entry.choices.values:
        return str(value)
    return str(entry.choices(str(value)).label)


def tone(kind: str, value: object) -> Tone:
    return THEME[colour(kind, value)]


def legend(kind: str) -> list[dict[str, str]]:
    """Every value of a kind in its declared order, with label and colours."""
    entry = _KINDS[kind]
    return [_describe(kind, value) for value in entry.choices.values]


def _describe(kind: str, value: str) -> dict[str, str]:
    name = colour(kind, value)
    shade = THEME[name]
    return {
        "value": value,
        "label": label(kind, value),
        "colour": name,
        "background": shade.background,
        "text": shade.text,
        "border": shade.border,
    }


def palette() -> dict[str, dict[str, dict[str, str]]]:
    """kind → value → {label, colour, background, text, border}: what the pages' scripts
    read (the labels in the current language)."""
    return {
        kind: {value: _describe(kind, value) for value in entry.choices.values}
        for kind, entry in _KINDS.items()
    }
