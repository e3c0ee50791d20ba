"""Calendar feeds of an agency's schedule (R14): a secret link per subscription, revocable.

The link's token is returned once, at creation, and only its SHA-256 is stored — like API
tokens — so a leaked database does not open anyone's feed, and a leaked link is closed by
revoking it.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, can
from diemcau.core.roles import Role
from diemcau.directory.models import Agency

from ..feeds import hash_token
from ..models import CalendarFeed

FEED_FIELDS = ["agency_id", "created_by_id", "created_at", "revoked_at"]
# The roles that publish an agency's schedule to its calendars: its office, and the operator
# and administrators who run the system. Technicians and auditors read it in the app.
FEED_ROLES = frozenset({Role.OFFICE, Role.OPERATOR, Role.ADMIN})
# A few subscriptions per agency (office, leaders' phones, a meeting-room screen…).
MAX_ACTIVE_FEEDS = 20


def may_manage_feeds(user: User, agency: Agency) -> bool:
    """The agency's own scope, with the right to see its meetings, in a publishing role."""
    role_ok = user.is_superuser or user.role in FEED_ROLES
    return role_ok and can(user, Action.VIEW_MEETING, agency)


@transaction.atomic
def create_feed(agency: Agency, *, actor: User) -> tuple[CalendarFeed, str]:
    """A new feed of `agency`'s schedule; the raw token is returned only here."""
    if not may_manage_feeds(actor, agency):
        raise PermissionDenied(
            "create_calendar_feed",
            _("You are not allowed to publish this agency's schedule as a calendar feed."),
        )
    active = CalendarFeed.objects.filter(agency=agency, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_FEEDS:
        raise InvalidTransition(
            _("This agency already has %(count)s calendar feeds; revoke one first.")
            % {"count": active}
        )
    raw = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(agency=agency, token_hash=hash_token(raw), created_by=actor)
    audit.record("calendar_feed.create", feed, actor=actor, after=audit.snapshot(feed, FEED_FIELDS))
    return feed, raw


@transaction.atomic
def revoke_feed(feed: CalendarFeed, *, actor: User) -> CalendarFeed:
    """Stop a feed at once: its link answers 404 from now on."""
    feed = CalendarFeed.objects.select_for_update().select_related("agency").get(pk=feed.pk)
    if not may_manage_feeds(actor, feed.agency):
        raise PermissionDenied(
            "revoke_calendar_feed",
            _("You are not allowed to revoke this agency's calendar feeds."),
        )
    if feed.revoked_at is not None:
        raise InvalidTransition(_("This calendar feed is already revoked."))
    before = audit.snapshot(feed, FEED_FIELDS)
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record(
        "calendar_feed.revoke",
        feed,
        actor=actor,
        before=before,
        after=audit.snapshot(feed, FEED_FIELDS),
    )
    return feed
