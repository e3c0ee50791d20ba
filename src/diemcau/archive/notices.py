"""What the archive tells people, and whom (R19, R27). Called inside the services'
transactions; texts are rendered in the reader's language (registered in `apps.py`). What
leaves the system never names a state-secret meeting (R20)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.models import User
from diemcau.core.permissions import covering_users_filter, operators
from diemcau.core.roles import Role
from diemcau.notifications.kinds import Text
from diemcau.notifications.services import notify
from diemcau.scheduling.feeds import SECRET_TITLE, is_state_secret
from diemcau.scheduling.models import Meeting

from .models import AccessRequest, Recording


def host_people(meeting: Meeting) -> list[User]:
    """The host agency's offices and technicians (by the rulebook's delegation)."""
    return list(
        User.objects.filter(is_active=True, role__in=[Role.OFFICE, Role.TECHNICIAN])
        .filter(covering_users_filter([meeting.host_agency]))
    )


def _send(users: Iterable[User], kind: str, meeting: Meeting, **params: Any) -> None:
    notify(
        list(users), kind=kind,
        params={"meeting_id": meeting.pk, "title": meeting.title,
                "secret": is_state_secret(meeting), **params},
        link=reverse("archive:meeting", args=[meeting.pk]),
        meeting_id=meeting.pk,
    )


def _iso(moment: Any) -> str:
    return moment.isoformat() if moment else ""


def ready(recording: Recording) -> None:
    _send(operators(), "archive.ready", recording.meeting, due=_iso(recording.handover_due_at))


def failed(recording: Recording) -> None:
    _send(operators(), "archive.failed", recording.meeting, reason=recording.error[:500])


def handover_due_soon(recording: Recording) -> None:
    _send(operators(), "archive.handover_due_soon", recording.meeting,
          due=_iso(recording.handover_due_at))


def handover_overdue(recording: Recording) -> None:
    _send(operators(), "archive.handover_overdue", recording.meeting,
          due=_iso(recording.handover_due_at))


def handed_over(recording: Recording) -> None:
    _send(host_people(recording.meeting), "archive.handed_over", recording.meeting)


def acknowledged(recording: Recording) -> None:
    who = recording.acknowledged_by
    _send(operators(), "archive.acknowledged", recording.meeting,
          who=(who.get_full_name() or who.username) if who else "")


def access_requested(request: AccessRequest) -> None:
    _send(host_people(request.meeting), "archive.access_requested", request.meeting,
          agency=request.agency.name if request.agency else "")


def access_decided(request: AccessRequest) -> None:
    _send([request.requester], "archive.access_decided", request.meeting,
          approved=request.state == "approved", reason=request.refusal_reason)


# ---------------------------------------------------------------- how each reads


def _title(params: Mapping[str, Any], outside: bool) -> str:
    if params.get("secret") and outside:
        return str(SECRET_TITLE)
    return str(params.get("title", ""))


def _local(value: str) -> str:
    moment = parse_datetime(value) if value else None
    return timezone.localtime(moment).strftime(DISPLAY_FORMAT) if moment else ""


def render_ready(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Recording ready: %(title)s") % {"title": _title(params, outside)},
                _("Hand it over to the host by %(due)s.") % {"due": _local(params.get("due", ""))})


def render_failed(params: Mapping[str, Any], outside: bool) -> Text:
    body = (_("Open the meeting in the system to read the details.")
            if params.get("secret") and outside
            else _("The recording could not be made into a file: %(reason)s")
            % {"reason": params.get("reason", "")})
    return Text(_("Recording failed: %(title)s") % {"title": _title(params, outside)}, body)


def render_due_soon(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Handover due soon: %(title)s") % {"title": _title(params, outside)},
                _("Hand the recording over to the host by %(due)s.")
                % {"due": _local(params.get("due", ""))})


def render_overdue(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Handover overdue: %(title)s") % {"title": _title(params, outside)},
                _("The handover deadline %(due)s has passed.")
                % {"due": _local(params.get("due", ""))})


def render_handed_over(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Recording handed over: %(title)s") % {"title": _title(params, outside)},
                _("The recording is now available to your agency. Acknowledge its receipt "
                  "in the system."))


def render_acknowledged(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Receipt acknowledged: %(title)s") % {"title": _title(params, outside)},
                _("%(who)s acknowledged receipt of the recording.")
                % {"who": params.get("who", "")})


def render_access_requested(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(_("Access requested: %(title)s") % {"title": _title(params, outside)},
                _("%(agency)s asks for the meeting's materials. Approve or refuse it in the "
                  "system.") % {"agency": params.get("agency", "")})


def render_access_decided(params: Mapping[str, Any], outside: bool) -> Text:
    title = _title(params, outside)
    if params.get("approved"):
        return Text(_("Access approved: %(title)s") % {"title": title},
                    _("The host approved your request for the meeting's materials."))
    return Text(_("Access refused: %(title)s") % {"title": title},
                _("Reason: %(reason)s") % {"reason": params.get("reason", "")})


RENDERERS = {
    "archive.ready": render_ready,
    "archive.failed": render_failed,
    "archive.handover_due_soon": render_due_soon,
    "archive.handover_overdue": render_overdue,
    "archive.handed_over": render_handed_over,
    "archive.acknowledged": render_acknowledged,
    "archive.access_requested": render_access_requested,
    "archive.access_decided": render_access_decided,
}
