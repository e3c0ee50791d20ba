"""Reasons the system gives for a decision, stored as a kind and parameters and read in the
reader's language — as notices are (`notifications.kinds`). A reason typed by a person (an
operator's refusal, a host's cancellation) is shown as typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from .models import Meeting

# KH Đ12.4b: the code was revoked for a higher-level body's meeting.
REVOKED_FOR_HIGHER_LEVEL = "revoked_for_higher_level"


def _revoked(params: Mapping[str, Any]) -> str:
    return _("Code revoked to serve a meeting of a higher-level body: %(title)s "
             "(%(article)s).") % {"title": params.get("title", ""),
                                  "article": params.get("article", "")}


_RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    REVOKED_FOR_HIGHER_LEVEL: _revoked,
}


def render(kind: str, params: Mapping[str, Any]) -> str:
    """The reason of `kind` in the active language ("" for an unknown kind)."""
    renderer = _RENDERERS.get(kind)
    return renderer(params) if renderer is not None else ""


def reason_text(meeting: Meeting) -> str:
    """The meeting's decision reason as the reader should read it: a system reason in the
    active language, else the words stored with it."""
    if meeting.decision_reason_kind:
        text = render(meeting.decision_reason_kind, meeting.decision_reason_params or {})
        if text:
            return text
    return meeting.decision_reason
