"""What the desk tells people, and line providers: written to the notifications' outbox inside
the services' transactions, rendered in the reader's language (registered in `apps.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.models import User
from diemcau.core.permissions import operators
from diemcau.notifications.kinds import Text
from diemcau.notifications.services import notify
from diemcau.scheduling.feeds import public_title

if TYPE_CHECKING:
    from diemcau.directory.models import Contact
    from diemcau.scheduling.models import Meeting

    from .models import IncidentRoute, TrainingTask


def _local(value: str) -> str:
    moment = parse_datetime(value) if value else None
    return timezone.localtime(moment).strftime(DISPLAY_FORMAT) if moment else ""


def duty_gap(meeting: Meeting, users: list[User]) -> None:
    notify(users, kind="desk.duty_gap", meeting_id=meeting.pk,
           link=reverse("desk:roster"),
           params={"meeting_id": meeting.pk, "title": public_title(meeting),
                   "start": meeting.starts_at.isoformat()})


def technician_changed(contact: Contact, previous: Contact | None, task: TrainingTask | None,
                       users: list[User]) -> None:
    notify(users, kind="desk.technician_changed", link=reverse("desk:contacts"),
           params={"endpoint": contact.endpoint.name, "name": contact.full_name,
                   "phone": contact.phone, "previous": previous.full_name if previous else "",
                   "training": task is not None})


def route_reply(route: IncidentRoute) -> None:
    notify(list(operators()), kind="desk.route_reply", link=reverse("desk:incidents"),
           meeting_id=route.incident.meeting_id,
           params={"incident": route.incident_id, "provider": route.provider.name,
                   "status": route.status, "reply": route.reply})


def render_duty_gap(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(
        _("No one on duty for a meeting: %(title)s") % {"title": params.get("title", "")},
        _("No MCU technician is assigned to this meeting or on duty when it starts (%(start)s). "
          "Add a shift or assign a technician.") % {"start": _local(params.get("start", ""))},
    )


def render_technician_changed(params: Mapping[str, Any], outside: bool) -> Text:
    subject = _("New technician at %(endpoint)s") % {"endpoint": params.get("endpoint", "")}
    body = _("%(name)s (%(phone)s) is now the technician of %(endpoint)s.") % params
    if params.get("previous"):
        body += " " + _("Replaces %(previous)s.") % params
    if params.get("training"):
        body += " " + _("A training task is open until the training is recorded.")
    return Text(subject, body)


def render_line_incident(params: Mapping[str, Any], outside: bool) -> Text:
    subject = _("Line incident at %(endpoint)s (%(agency)s)") % {
        "endpoint": params.get("endpoint", ""), "agency": params.get("agency", "")}
    lines = [_("The online conference system reports a problem with the line of this "
               "endpoint. Please acknowledge it and say when it is resolved, with the link "
               "below.")]
    if params.get("circuit"):
        lines.append(_("Line: %(circuit)s") % params)
    if params.get("description"):
        lines.append(_("Reported: %(description)s") % params)
    if params.get("contacts"):
        lines.append(_("Your people for this area: %(people)s")
                     % {"people": ", ".join(params["contacts"])})
    return Text(subject, "\n".join(lines))


def render_route_reply(params: Mapping[str, Any], outside: bool) -> Text:
    from .choices import RouteStatus

    status = params.get("status", "")
    label = RouteStatus(status).label if status in RouteStatus.values else status
    return Text(
        _("%(provider)s: incident #%(incident)s %(status)s") % {
            "provider": params.get("provider", ""), "incident": params.get("incident", ""),
            "status": str(label).lower()},
        str(params.get("reply", "")),
    )


RENDERERS = {
    "desk.duty_gap": render_duty_gap,
    "desk.technician_changed": render_technician_changed,
    "desk.line_incident": render_line_incident,
    "desk.route_reply": render_route_reply,
}
