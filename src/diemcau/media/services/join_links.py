"""Join links: signed, expiring, revocable links with which one endpoint joins one meeting
without logging in (a room PC or an admitted personal device). Only a hash of the secret is
kept; the signature makes a tampered link fail before the database is asked.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit, date_bounds
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.directory.models import Endpoint
from diemcau.scheduling.models import Meeting

from ..models import JoinLink, LeaveReason, Participation
from ..permissions import can_control, joinable_endpoints
from .participations import (
    close_participation,
    hash_secret,
    kick_from_janus,
    withdraw_janus_token,
)

LINK_SALT = "diemcau.media.join-link"


# A link is valid until the meeting's end plus this margin, unless it is given a shorter life.
LINK_GRACE_AFTER_END = dt.timedelta(hours=1)


def issue_join_link(
    meeting: Meeting, endpoint: Endpoint, *, actor: User, valid_until: dt.datetime | None = None
) -> tuple[JoinLink, str]:
    """A join link for one endpoint of the meeting; the token is returned only here.

    Whoever may connect the endpoint by login (its agency's scope) or control the meeting may
    hand its room a link."""
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
        _require_may_connect(actor, meeting, endpoint)
        latest = meeting.ends_at + LINK_GRACE_AFTER_END
        if valid_until is not None:
            valid_until = date_bounds.aware(valid_until)
            errors = date_bounds.window_errors(valid_until=valid_until)
            if errors:
                raise InvalidInput(errors)
        expires = min(valid_until, latest) if valid_until else latest
        if expires <= timezone.now():
            raise InvalidInput({"valid_until": [_("The link would already have expired.")]})
        secret = secrets.token_urlsafe(24)
        link = JoinLink.objects.create(
            meeting=meeting,
            endpoint=endpoint,
            token_hash=hash_secret(secret),
            expires_at=expires,
            created_by=actor,
        )
        audit.record(
            "join_link.issue",
            link,
            actor=actor,
            after=audit.snapshot(link, ["meeting_id", "endpoint_id", "expires_at"]),
        )
    token = signing.dumps({"l": link.pk, "s": secret}, salt=LINK_SALT, compress=True)
    return link, token


def revoke_join_link(link: JoinLink, *, actor: User) -> JoinLink:
    """The link lets no one in any more, and whoever is connected with it now is removed
    (a link that leaked is revoked because someone it was not meant for may be using it)."""
    with transaction.atomic():
        link = JoinLink.objects.select_for_update().select_related("meeting").get(pk=link.pk)
        _require_may_connect(actor, link.meeting, link.endpoint)
        if link.revoked_at is not None:
            raise InvalidTransition(_("The link is already revoked."))
        before = audit.snapshot(link, ["revoked_at"])
        link.revoked_at, link.revoked_by = timezone.now(), actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "join_link.revoke", link, actor=actor, before=before,
            after=audit.snapshot(link, ["revoked_at"]),
        )
        connected = list(
            Participation.objects.select_for_update().select_related("node")
            .filter(join_link=link, left_at__isnull=True)
        )
        for participation in connected:
            close_participation(participation, LeaveReason.KICKED, actor=actor,
                                action="live.kick")
    for participation in connected:  # Janus after the commit
        kick_from_janus(participation)
        withdraw_janus_token(participation.node, participation.janus_token_secret)
    return link


def link_from_token(token: str, *, now: dt.datetime | None = None) -> JoinLink:
    """The valid link a token stands for. A tampered, unknown, revoked or expired token is
    refused with the same kind of error, saying only what the holder can act on."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=LINK_SALT)
        link = JoinLink.objects.select_related("meeting", "endpoint").get(pk=int(data["l"]))
    except (signing.BadSignature, JoinLink.DoesNotExist, KeyError, TypeError, ValueError):
        raise PermissionDenied("join", _("This join link is not valid.")) from None
    if not secrets.compare_digest(link.token_hash, hash_secret(str(data.get("s", "")))):
        raise PermissionDenied("join", _("This join link is not valid."))
    if link.revoked_at is not None:
        raise PermissionDenied("join", _("This join link was revoked. Ask the host for a new one."))
    if link.expires_at <= now:
        raise PermissionDenied("join", _("This join link has expired. Ask the host for a new one."))
    return link


def _require_may_connect(actor: User, meeting: Meeting, endpoint: Endpoint) -> None:
    if can_control(actor, meeting):
        if not in_meeting(meeting, endpoint):
            raise InvalidInput({"endpoint": [_("This endpoint is not in the meeting.")]})
        return
    if not joinable_endpoints(actor, meeting).filter(pk=endpoint.pk).exists():
        raise PermissionDenied(
            str(Action.JOIN_MEETING), _("You may not connect this endpoint to this meeting.")
        )


def in_meeting(meeting: Meeting, endpoint: Endpoint) -> bool:
    return meeting.host_endpoint_id == endpoint.pk or meeting.participants.filter(
        pk=endpoint.pk
    ).exists()
