"""The published schedule (R14, ĐN Đ14.3): which meetings agencies and the public are told
about, and the secret links of the agencies' calendar feeds. Read-only; creating and revoking
feeds is in `services/feeds.py`.

What is published never carries a secret: no meeting code (R13), no MCU node, and for a
state-secret meeting nothing but its time, its host and the word "Phiên họp" (ĐN Đ5.2,
KH Đ7.4).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from diemcau.directory.models import Agency

from .choices import Classification, MeetingStatus
from .models import CalendarFeed, Meeting
from .planning import MAX_MEETING_LENGTH

# Accepted meetings, those running, and — so that past days do not empty out — those that
# were held. Submitted, refused, cancelled and revoked meetings are not on the schedule.
PUBLISHED_STATUSES = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE, MeetingStatus.ENDED)

# A feed covers the last month (for the minutes) and the coming year.
FEED_PAST = dt.timedelta(days=30)
FEED_AHEAD = dt.timedelta(days=365)

# What a state-secret meeting is called wherever its title may not appear.
SECRET_TITLE = pgettext_lazy("title of a state-secret meeting", "Meeting")

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def hash_token(raw: str) -> str:
    """Only this hash of a feed's token is stored; the token itself is shown once."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def feed_for_token(raw: str) -> CalendarFeed | None:
    """The live feed a token opens, or None for an unknown, malformed or revoked one."""
    if not TOKEN_PATTERN.match(raw):
        return None
    return (
        CalendarFeed.objects.select_related("agency")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )


def feed_range(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or timezone.now()
    return now - FEED_PAST, now + FEED_AHEAD


def overlapping(start: dt.datetime, end: dt.datetime) -> Q:
    """Meetings whose rehearsal or official session overlaps [start, end).

    No session or rehearsal lasts longer than `MAX_MEETING_LENGTH` (registration refuses
    longer ones), so each start is bounded from below as well: the scan of the starts' indexes
    covers the range asked for, not every meeting since the first."""
    earliest = start - MAX_MEETING_LENGTH
    return Q(starts_at__gt=earliest, starts_at__lt=end, ends_at__gt=start) | Q(
        rehearsal_starts_at__gt=earliest, rehearsal_starts_at__lt=end,
        rehearsal_ends_at__gt=start,
    )


def published(meetings: QuerySet[Meeting] | None = None) -> QuerySet[Meeting]:
    base = Meeting.objects.all() if meetings is None else meetings
    return (
        base.filter(status__in=PUBLISHED_STATUSES)
        .select_related("host_agency", "host_endpoint")
        .prefetch_related("participants")
        .order_by("starts_at", "pk")
    )


def province_schedule(start: dt.datetime, end: dt.datetime) -> QuerySet[Meeting]:
    """The whole province's published meetings in [start, end): the public schedule."""
    return published().filter(overlapping(start, end))


def agency_schedule(agency: Agency, start: dt.datetime, end: dt.datetime) -> QuerySet[Meeting]:
    """Published meetings the agency hosts or in which one of its endpoints takes part."""
    involved = Meeting.objects.filter(
        Q(host_agency=agency) | Q(host_endpoint__agency=agency) | Q(participants__agency=agency)
    ).values("pk")
    return published().filter(pk__in=involved).filter(overlapping(start, end))


def is_state_secret(meeting: Meeting) -> bool:
    return meeting.classification == Classification.STATE_SECRET


def public_title(meeting: Meeting) -> str:
    return str(SECRET_TITLE) if is_state_secret(meeting) else meeting.title


def endpoint_count(meeting: Meeting) -> int:
    """Connected endpoints: the host and every other invited endpoint (as `planning`), from
    the prefetched participants so a list costs no query per meeting."""
    others = {p.pk for p in meeting.participants.all()} - {meeting.host_endpoint_id}
    return 1 + len(others)
