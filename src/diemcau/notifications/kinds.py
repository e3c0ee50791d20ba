"""How each kind of message reads. A message is stored as its kind and parameters, and its
text is rendered when it is shown (in the page's language) or sent (in the recipient's
language, `User.language`).

Apps that send messages register a renderer per kind in their `AppConfig.ready`; this app
knows none of them. A renderer is told whether the text leaves the system (e-mail, webhook):
what leaves must never carry a state secret (R20, ĐN Đ8, KH Đ7) — the recipient opens the
system to read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


# renderer(params, outside) → Text, called inside the reader's translation.
Renderer = Callable[[Mapping[str, Any], bool], Text]
_RENDERERS: dict[str, Renderer] = {}


def register(kind: str, renderer: Renderer) -> None:
    _RENDERERS[kind] = renderer


def registered(kind: str) -> bool:
    return kind in _RENDERERS


def render(kind: str, params: Mapping[str, Any], *, outside: bool, fallback: Text) -> Text:
    """The text of a message of `kind`, or `fallback` (the text stored with it) for a kind no
    app renders, or a message stored without parameters (queued before they were kept)."""
    renderer = _RENDERERS.get(kind)
    if renderer is None or not params:
        return fallback
    text = renderer(params, outside)
    # E-mail headers are one line; the outbox keeps at most 250 characters of a subject.
    return Text(" ".join(text.subject.split())[:250], text.body)
