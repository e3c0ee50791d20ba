"""What this app tells people: when a session ends, its endpoints' technicians and the MCU
operators are asked to tick the closing checklist (ĐN Đ13.1, KH Đ15.1). Written in the
lifecycle's transaction (`notifications.notify`), so it goes out only if the end commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from diemcau.core.models import User
from diemcau.core.permissions import covering_users_filter, operators
from diemcau.core.roles import Role
from diemcau.notifications.kinds import Text
from diemcau.notifications.services import notify
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.feeds import public_title
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services.lifecycle import StatusChange, Transition

from .permissions import meeting_endpoints

CLOSING_DUE = "closing.due"


def closing_due(meeting: Meeting) -> None:
    endpoints = list(meeting_endpoints(meeting))
    technicians = User.objects.filter(is_active=True, role=Role.TECHNICIAN).filter(
        covering_users_filter([e.agency for e in endpoints]))
    rulebook = active_rulebook()
    notify([*technicians, *operators()], kind=CLOSING_DUE, params={
        "meeting": meeting.pk, "title": public_title(meeting),
        "article": rulebook.cite(rulebook.closing.article)},
        link=reverse("proceedings:closing", args=[meeting.pk]), meeting_id=meeting.pk)


def meeting_changed(change: StatusChange) -> None:
    """The lifecycle's observer: a session that ended asks for its closing checklist."""
    if change.transition in (Transition.END, Transition.END_BY_SYSTEM):
        closing_due(change.meeting)


def render_closing_due(params: Mapping[str, Any], outside: bool) -> Text:
    subject = _("Tick the closing checklist of %(title)s") % {"title": params.get("title", "")}
    return Text(subject, _("The session has ended. Check the whole system, switch the terminal "
                           "off, then cut its power, and tick each item (%(article)s).")
                % {"article": params.get("article", "")})
