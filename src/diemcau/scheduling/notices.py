"""What people are told about meetings, and whom. Each function is called inside a service's
transaction; the messages are handed to the notifications outbox on commit, so nobody hears
of a change that was rolled back, and a channel that is down loses nothing.

Texts are built in the recipient-neutral default language (Vietnamese) with gettext.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core.models import User
from diemcau.core.permissions import ROLE_ACTIONS, Action, covering_users_filter
from diemcau.core.roles import Role
from diemcau.directory.models import Agency
from diemcau.rulebooks import active_rulebook

from .models import Meeting


def _local(moment) -> str:  # type: ignore[no-untyped-def]
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def _operators() -> list[User]:
    roles = [role for role, actions in ROLE_ACTIONS.items() if Action.DECIDE_MEETING in actions]
    return list(User.objects.filter(is_active=True, role__in=roles))


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


def _send(
    users: Iterable[User],
    *,
    kind: str,
    meeting: Meeting,
    subject: str,
    body: str,
    with_ics: bool = False,
) -> None:
    from diemcau.notifications.services import notify

    recipients = {u.pk: u for u in users}
    link = reverse("scheduling:meeting_detail", args=[meeting.pk])
    transaction.on_commit(
        lambda: notify(
            list(recipients.values()),
            kind=kind,
            subject=subject,
            body=body,
            link=link,
            meeting_id=meeting.pk if with_ics else None,
        )
    )


def submitted(meeting: Meeting) -> None:
    _send(
        _operators(),
        kind="meeting.submitted",
        meeting=meeting,
        subject=_("New meeting registration: %(title)s") % {"title": meeting.title},
        body=_("%(host)s registered “%(title)s” for %(start)s. Reply by %(due)s.")
        % {
            "host": meeting.host_agency.name,
            "title": meeting.title,
            "start": _local(meeting.starts_at),
            "due": _local(meeting.reply_due_at),
        },
    )


def accepted(meeting: Meeting) -> None:
    body = _("“%(title)s” on %(start)s is accepted. Technical checks are due from %(check)s.") % {
        "title": meeting.title,
        "start": _local(meeting.starts_at),
        "check": _local(
            meeting.checks.order_by("due_at").values_list("due_at", flat=True).first()
            or meeting.starts_at
        ),
    }
    _send(
        [*_host_people(meeting), *_participant_people(meeting)],
        kind="meeting.accepted",
        meeting=meeting,
        subject=_("Meeting accepted: %(title)s") % {"title": meeting.title},
        body=body,
        with_ics=True,
    )


def refused(meeting: Meeting) -> None:
    _send(
        _host_people(meeting),
        kind="meeting.refused",
        meeting=meeting,
        subject=_("Meeting refused: %(title)s") % {"title": meeting.title},
        body=_("Reason: %(reason)s") % {"reason": meeting.decision_reason},
    )


def cancelled(meeting: Meeting) -> None:
    _send(
        [*_host_people(meeting), *_participant_people(meeting), *_operators()],
        kind="meeting.cancelled",
        meeting=meeting,
        subject=_("Meeting cancelled: %(title)s") % {"title": meeting.title},
        body=_("Reason: %(reason)s") % {"reason": meeting.decision_reason},
    )


def revoked(meeting: Meeting, winner: Meeting) -> None:
    """KH Đ12.4b: the revoked host is told at once, with the reason and free slots."""
    from .selectors import free_slots

    slots = free_slots(meeting, count=3)
    slot_text = "; ".join(_local(s) for s in slots) or _("none found in the next 7 days")
    rulebook = active_rulebook()
    _send(
        [*_host_people(meeting), *_participant_people(meeting)],
        kind="meeting.revoked",
        meeting=meeting,
        subject=_("Meeting code revoked: %(title)s") % {"title": meeting.title},
        body=_("%(reason)s Article: %(article)s. Free times you could move to: %(slots)s.")
        % {
            "reason": meeting.decision_reason,
            "article": rulebook.cite(rulebook.priority.article),
            "slots": slot_text,
        },
    )


def reply_due_soon(meeting: Meeting) -> None:
    _send(
        _operators(),
        kind="meeting.reply_due_soon",
        meeting=meeting,
        subject=_("Reply due soon: %(title)s") % {"title": meeting.title},
        body=_("Reply to the registration by %(due)s.") % {"due": _local(meeting.reply_due_at)},
    )


def reply_overdue(meeting: Meeting) -> None:
    _send(
        _operators(),
        kind="meeting.reply_overdue",
        meeting=meeting,
        subject=_("Reply overdue: %(title)s") % {"title": meeting.title},
        body=_("The reply deadline %(due)s has passed.") % {"due": _local(meeting.reply_due_at)},
    )


def incident_opened(incident) -> None:  # type: ignore[no-untyped-def]
    meeting = incident.meeting
    _send(
        _operators(),
        kind="incident.opened",
        meeting=meeting,
        subject=_("Incident in %(title)s") % {"title": meeting.title},
        body=incident.description,
    )
