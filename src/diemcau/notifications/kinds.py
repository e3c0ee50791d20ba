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
from dataclasses import dataclass, field
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


# recipients(params) → who receives a message of the kind queued with `services.notify_later`,
# worked out by the worker after the commit, and what goes with it.
Recipients = Callable[[Mapping[str, Any]], "Fanout | None"]
_RECIPIENTS: dict[str, Recipients] = {}


@dataclass(frozen=True)
class Fanout:
    """A message's recipients and attachments, as `notify` takes them, and the parameters
    that are only known once the change has committed."""

    users: list[Any]
    attachments: list[Any] = field(default_factory=list)
    public: bool = False
    params: dict[str, Any] = field(default_factory=dict)


def register_recipients(kind: str, recipients: Recipients) -> None:
    _RECIPIENTS[kind] = recipients


def recipients_of(kind: str) -> Recipients | None:
    return _RECIPIENTS.get(kind)


def render(kind: str, params: Mapping[str, Any], *, outside: bool, fallback: Text) -> Text:
    """The text of a message of `kind`, or `fallback` (the text stored with it) for a kind no
    app renders, or a message stored without parameters (queued before they were kept)."""
    renderer = _RENDERERS.get(kind)
    if renderer is None or not params:
        return fallback
    text = renderer(params, outside)
    # E-mail headers are one line; the outbox keeps at most 250 characters of a subject.
    return Text(" ".join(text.subject.split())[:250], text.body)
