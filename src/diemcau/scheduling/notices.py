"""What people are told about meetings, and whom (R9, R12, R15).

Each function is called inside a service's transaction and writes the outbox there
(`notifications.notify`): the message commits or rolls back with the change it tells of, and
a crash right after the commit loses nothing (the worker's sweep sends what is pending).

A message is stored as its kind and parameters; the `render_*` functions below make its text
in the reader's language, when it is shown or sent (registered in `apps.py`). What leaves the
system (e-mail, webhook) never carries the title, reason or description of a state-secret
meeting (R20; ĐN Đ8, KH Đ7): the recipient opens the system to read them. The ICS attached to
an acceptance names such a meeting only "Phiên họp".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.models import User
from diemcau.core.permissions import covering_users_filter, operators
from diemcau.core.roles import Role
from diemcau.directory.models import Agency
from diemcau.notifications.kinds import Fanout, Text
from diemcau.notifications.services import Attachment, notify, notify_later
from diemcau.rulebooks import active_rulebook

from .feeds import SECRET_TITLE, is_state_secret, public_title
from .models import Incident, Meeting


def _iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _local(value: str) -> str:
    moment = parse_datetime(value) if value else None
    return timezone.localtime(moment).strftime(DISPLAY_FORMAT) if moment else ""


def _local_people(agencies: list[Agency]) -> list[User]:
    """Offices and technicians whose scope covers one of the agencies."""
    return list(
        User.objects.filter(is_active=True, role__in=[Role.OFFICE, Role.TECHNICIAN]).filter(
            covering_users_filter(agencies)
        )
    )


def _host_people(meeting: Meeting) -> list[User]:
    """Whoever registered it, and the host's office and technicians."""
    return [meeting.created_by, *_local_people([meeting.host_agency])]


def _participant_people(meeting: Meeting) -> list[User]:
    agencies = list(Agency.objects.filter(endpoints__meetings=meeting).distinct())
    return _local_people(agencies) if agencies else []


def _params(meeting: Meeting, **params: Any) -> dict[str, Any]:
    return {
        "meeting_id": meeting.pk,
        "title": meeting.title,
        "secret": is_state_secret(meeting),
        "start": _iso(meeting.starts_at),
        **params,
    }


def _ics(meeting: Meeting) -> Attachment:
    from .ics import meeting_ics

    return Attachment(f"meeting-{meeting.pk}.ics", "text/calendar", meeting_ics(meeting))


def _send(users: Iterable[User], *, kind: str, meeting: Meeting, attach_ics: bool = False,
          public: bool = False, **params: Any) -> None:
    notify(
        list(users),
        kind=kind,
        params=_params(meeting, **params),
        link=reverse("scheduling:meeting_detail", args=[meeting.pk]),
        meeting_id=meeting.pk,
        attachments=[_ics(meeting)] if attach_ics else [],
        public=public,
    )


# ---------------------------------------------------------------- who is told what


def submitted(meeting: Meeting) -> None:
    _send(operators(), kind="meeting.submitted", meeting=meeting,
          host=meeting.host_agency.name, due=_iso(meeting.reply_due_at))


def amended(meeting: Meeting, *, changed: list[str]) -> None:
    """A submitted registration was edited before the decision: the reply clock restarted."""
    _send(operators(), kind="meeting.amended", meeting=meeting,
          host=meeting.host_agency.name, due=_iso(meeting.reply_due_at), changed=changed)


def _public_reply() -> bool:
    """KH Đ13.2b: the reply is given "công khai qua tài khoản thư điện tử công vụ, nhóm trao
    đổi trực tuyến (Zalo, Viber hoặc Telegram,...)": it also goes to the support group's
    webhook (`reply_sla.public`)."""
    return active_rulebook().reply_sla.public


def accepted(meeting: Meeting) -> None:
    """The decision writes one row; the worker works out the recipients — whoever registered
    it, the host's and the participants' offices and technicians — with the ICS and the
    public copy (KH Đ13.2b) once it has committed (`accepted_recipients`), so none of that
    runs while the decision holds the capacity locks."""
    notify_later(kind="meeting.accepted", params=_params(meeting),
                 link=reverse("scheduling:meeting_detail", args=[meeting.pk]),
                 meeting_id=meeting.pk)


def accepted_recipients(params: Mapping[str, Any]) -> Fanout | None:
    """Who is told that a meeting was accepted, read by the worker after the commit."""
    meeting = (Meeting.objects.select_related("host_agency", "created_by")
               .filter(pk=int(params.get("meeting_id") or 0)).first())
    if meeting is None:
        return None
    first_check = meeting.checks.order_by("due_at").values_list("due_at", flat=True).first()
    return Fanout(users=[*_host_people(meeting), *_participant_people(meeting)],
                  attachments=[_ics(meeting)], public=_public_reply(),
                  params={"check": _iso(first_check or meeting.starts_at)})


def refused(meeting: Meeting) -> None:
    _send(_host_people(meeting), kind="meeting.refused", meeting=meeting, public=_public_reply(),
          reason=meeting.decision_reason, proposed_start=_iso(meeting.proposed_starts_at),
          proposed_end=_iso(meeting.proposed_ends_at))


def cancelled(meeting: Meeting) -> None:
    _send([*_host_people(meeting), *_participant_people(meeting), *operators()],
          kind="meeting.cancelled", meeting=meeting, reason=meeting.decision_reason)


def revoked(meeting: Meeting, winner: Meeting) -> None:
    """KH Đ12.4b: the revoked host is told at once, with the reason; the free slots follow
    from the worker once the decision has committed (`tasks.offer_free_slots`), so no search
    runs while the decision holds the capacity locks."""
    rulebook = active_rulebook()
    _send([*_host_people(meeting), *_participant_people(meeting)], kind="meeting.revoked",
          meeting=meeting, winner=public_title(winner),
          article=rulebook.cite(rulebook.priority.article), slots_follow=True)

    def offer() -> None:
        from .tasks import offer_free_slots

        offer_free_slots(meeting.pk)

    transaction.on_commit(offer)


def free_slots_found(meeting: Meeting) -> None:
    """The revoked host's free times (same length, same endpoints, nothing revoked), found
    after the revocation committed."""
    from .selectors import free_slots

    _send([*_host_people(meeting), *_participant_people(meeting)], kind="meeting.free_slots",
          meeting=meeting, slots=[_iso(slot) for slot in free_slots(meeting, count=3)])


def reply_due_soon(meeting: Meeting) -> None:
    _send(operators(), kind="meeting.reply_due_soon", meeting=meeting,
          due=_iso(meeting.reply_due_at))


def reply_overdue(meeting: Meeting) -> None:
    _send(operators(), kind="meeting.reply_overdue", meeting=meeting,
          due=_iso(meeting.reply_due_at))


def incident_opened(incident: Incident) -> None:
    _send(operators(), kind="incident.opened", meeting=incident.meeting,
          description=incident.description)


def incident_closed(incident: Incident) -> None:
    """Whoever reported an incident hears that it is resolved, and how (R15)."""
    _send([incident.opened_by], kind="incident.closed", meeting=incident.meeting,
          incident=incident.pk, resolution=incident.resolution)


# ---------------------------------------------------------------- how each reads


def _title(params: Mapping[str, Any], outside: bool) -> str:
    if params.get("secret") and outside:
        return str(SECRET_TITLE)
    return str(params.get("title", ""))


def _withheld(params: Mapping[str, Any], outside: bool) -> bool:
    """Whether the details stay inside the system (a state-secret meeting, sent outside)."""
    return bool(params.get("secret") and outside)


def _open_to_read() -> str:
    return _("Open the meeting in the system to read the details.")


def render_submitted(params: Mapping[str, Any], outside: bool) -> Text:
    title = _title(params, outside)
    return Text(
        _("New meeting registration: %(title)s") % {"title": title},
        _("%(host)s registered “%(title)s” for %(start)s. Reply by %(due)s.")
        % {"host": params.get("host", ""), "title": title, "start": _local(params["start"]),
           "due": _local(params.get("due", ""))},
    )


def field_label(name: str) -> str:
    """A meeting field's label as the reader reads it ("host_endpoint_id" → "Host endpoint")."""
    try:
        return str(getattr(Meeting._meta.get_field(name.removesuffix("_id")), "verbose_name",
                           name))
    except Exception:  # a field of an older version
        return name


def render_amended(params: Mapping[str, Any], outside: bool) -> Text:
    title = _title(params, outside)
    changed = ", ".join(field_label(name) for name in params.get("changed", []))
    body = _("%(host)s changed “%(title)s” before your decision (%(changed)s). The reply "
             "clock restarted: reply by %(due)s.") % {
        "host": params.get("host", ""), "title": title, "changed": changed or "—",
        "due": _local(params.get("due", ""))}
    return Text(_("Registration changed: %(title)s") % {"title": title}, body)


def render_accepted(params: Mapping[str, Any], outside: bool) -> Text:
    title = _title(params, outside)
    return Text(
        _("Meeting accepted: %(title)s") % {"title": title},
        _("“%(title)s” on %(start)s is accepted. Technical checks are due from %(check)s.")
        % {"title": title, "start": _local(params["start"]),
           "check": _local(params.get("check", ""))},
    )


def _with_reason(subject: str, params: Mapping[str, Any], outside: bool) -> Text:
    if _withheld(params, outside):
        return Text(subject, _open_to_read())
    return Text(subject, _("Reason: %(reason)s") % {"reason": params.get("reason", "")})


def render_refused(params: Mapping[str, Any], outside: bool) -> Text:
    text = _with_reason(_("Meeting refused: %(title)s") % {"title": _title(params, outside)},
                        params, outside)
    if params.get("proposed_start"):
        proposal = _("The operator proposes another time: %(start)s–%(end)s. Copy the meeting "
                     "into a new registration to take it.") % {
            "start": _local(params["proposed_start"]),
            "end": _local(params.get("proposed_end", ""))}
        return Text(text.subject, f"{text.body}\n{proposal}")
    return text


def render_cancelled(params: Mapping[str, Any], outside: bool) -> Text:
    return _with_reason(_("Meeting cancelled: %(title)s") % {"title": _title(params, outside)},
                        params, outside)


def render_revoked(params: Mapping[str, Any], outside: bool) -> Text:
    slots = "; ".join(_local(slot) for slot in params.get("slots", []))
    reason = _(
        "Code revoked to serve a meeting of a higher-level body: %(title)s (%(article)s)."
    ) % {"title": params.get("winner", ""), "article": params.get("article", "")}
    if params.get("slots_follow"):
        return Text(
            _("Meeting code revoked: %(title)s") % {"title": _title(params, outside)},
            _("%(reason)s Article: %(article)s. The free times you could move to follow in "
              "a moment.") % {"reason": reason, "article": params.get("article", "")},
        )
    return Text(
        _("Meeting code revoked: %(title)s") % {"title": _title(params, outside)},
        _("%(reason)s Article: %(article)s. Free times you could move to: %(slots)s.")
        % {"reason": reason, "article": params.get("article", ""),
           "slots": slots or _("none found in the next 7 days")},
    )


def render_free_slots(params: Mapping[str, Any], outside: bool) -> Text:
    slots = "; ".join(_local(slot) for slot in params.get("slots", []))
    return Text(
        _("Free times for: %(title)s") % {"title": _title(params, outside)},
        _("Times at which the meeting, with the same length and endpoints, fits now: "
          "%(slots)s.") % {"slots": slots or _("none found in the next 7 days")},
    )


def render_reply_due_soon(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(
        _("Reply due soon: %(title)s") % {"title": _title(params, outside)},
        _("Reply to the registration by %(due)s.") % {"due": _local(params.get("due", ""))},
    )


def render_reply_overdue(params: Mapping[str, Any], outside: bool) -> Text:
    return Text(
        _("Reply overdue: %(title)s") % {"title": _title(params, outside)},
        _("The reply deadline %(due)s has passed.") % {"due": _local(params.get("due", ""))},
    )


def render_incident_opened(params: Mapping[str, Any], outside: bool) -> Text:
    subject = _("Incident in %(title)s") % {"title": _title(params, outside)}
    if _withheld(params, outside):
        return Text(subject, _open_to_read())
    return Text(subject, str(params.get("description", "")))


def render_incident_closed(params: Mapping[str, Any], outside: bool) -> Text:
    subject = _("Incident #%(pk)s resolved in %(title)s") % {
        "pk": params.get("incident", ""), "title": _title(params, outside)}
    if _withheld(params, outside):
        return Text(subject, _open_to_read())
    return Text(subject, _("What was done: %(resolution)s") % {
        "resolution": params.get("resolution", "")})


def render_mailed(params: Mapping[str, Any], outside: bool) -> Text:
    """The answer to a registration sent to the official mailbox (KH Đ13.2a)."""
    received, counted = _local(str(params.get("received", ""))), _local(
        str(params.get("counted_from", "")))
    subject = _("Registration by e-mail received: %(subject)s") % {
        "subject": params.get("subject", "")}
    timing = _("Received at %(received)s; by %(article)s it counts from %(counted)s.") % {
        "received": received, "counted": counted, "article": params.get("article", "")}
    if params.get("outcome") == "no_endpoint":
        return Text(subject, timing + "\n\n" + _(
            "Your agency has no endpoint in use, so no registration could be made. Ask the "
            "operator to admit your endpoint."))
    lines = [timing, _("A draft registration (#%(meeting)s) was made with %(endpoints)s "
                       "participant endpoints named in your message.") % {
        "meeting": params.get("meeting", ""), "endpoints": params.get("endpoints", 0)}]
    if params.get("letter"):
        lines.append(_("The signed invitation letter is attached to it."))
    lines.append(_("Open the link to check the times, complete it and submit it; the lead "
                   "time counts from the message's arrival."))
    return Text(subject, "\n\n".join(lines))


# The kinds whose recipients the worker works out after the commit (`notify_later`).
RECIPIENTS = {
    "meeting.accepted": accepted_recipients,
}

RENDERERS = {
    "meeting.mailed": render_mailed,
    "meeting.submitted": render_submitted,
    "meeting.amended": render_amended,
    "incident.closed": render_incident_closed,
    "meeting.accepted": render_accepted,
    "meeting.refused": render_refused,
    "meeting.cancelled": render_cancelled,
    "meeting.revoked": render_revoked,
    "meeting.free_slots": render_free_slots,
    "meeting.reply_due_soon": render_reply_due_soon,
    "meeting.reply_overdue": render_reply_overdue,
    "incident.opened": render_incident_opened,
}
