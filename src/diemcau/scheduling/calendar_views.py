"""Calendar pages (R11, R14): the meetings calendar, an endpoint's busy times, the MCU nodes'
load against the rulebook cap, the public schedule and the ICS feeds.

Every meeting list starts from `meetings_visible_to` or from the published schedule of
`feeds.py`; public pages and files are built from plain rows, never from the meeting itself,
so a template cannot show the meeting code, a phone number or a state-secret title by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from diemcau.core import date_bounds, public_url
from diemcau.core.models import User
from diemcau.core.permissions import Action, role_allows
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Endpoint
from diemcau.directory.permissions import endpoints_visible_to
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.ui import status
from diemcau.ui.service_calls import call_service, no_store

from . import feeds, ics
from .capacity import Load, Step, Window, peak, sweep
from .choices import MeetingStatus, WindowKind
from .models import Booking, CalendarFeed, Meeting
from .permissions import meetings_visible_to
from .planning import node_loads
from .services.feeds import create_feed, may_manage_feeds, revoke_feed
from .windows import meeting_windows

DEFAULT_STATUSES = (
    MeetingStatus.SUBMITTED,
    MeetingStatus.ACCEPTED,
    MeetingStatus.LIVE,
    MeetingStatus.ENDED,
)
MAX_EVENTS_RANGE = dt.timedelta(days=100)
MAX_LOAD_RANGE = dt.timedelta(days=31)
BUSY_LIST_DAYS = 14


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _nav(user: User | Any) -> dict[str, bool]:
    """What the calendar section's tabs offer this user; each page checks again itself."""
    agency = getattr(user, "agency", None)
    return {
        "nav_may_view_load": _may_view_load(user),
        "nav_may_manage_feeds": bool(
            getattr(user, "is_authenticated", False)
            and agency is not None
            and may_manage_feeds(user, agency)
        ),
    }


def _local_iso(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat()


# ---------------------------------------------------------------- query parameters


def _instant(value: str | None) -> dt.datetime | None:
    """An ISO date or date-time from the query string; naive values are local time."""
    if not value:
        return None
    value = value.strip().replace(" ", "+")  # a "+07:00" offset arrives as " 07:00"
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                return None
            parsed = dt.datetime.combine(day, dt.time())
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    _require_window(parsed)
    return parsed


def _require_window(value: dt.date | dt.datetime) -> None:
    """A date outside the window the system accepts is a bad request, said plainly (year 1 or
    9999 would otherwise overflow the calendar arithmetic)."""
    message = date_bounds.window_error(value)
    if message:
        raise BadRequest(message)


def _range(request: HttpRequest, longest: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    start, end = _instant(request.GET.get("start")), _instant(request.GET.get("end"))
    if start is None or end is None or end <= start:
        raise BadRequest(_("Give a start and an end (ISO dates), the end after the start."))
    if end - start > longest:
        raise BadRequest(_("At most %(days)s days at a time.") % {"days": longest.days})
    return start, end


def _day(value: str | None) -> dt.date:
    """A day from the query string, today (local) when missing or wrong; a day outside the
    window the system accepts is a bad request."""
    try:
        day = parse_date(value or "")
    except ValueError:
        day = None
    if day is not None:
        _require_window(day)
    return day or timezone.localdate()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _statuses(request: HttpRequest) -> list[str]:
    if "status" not in request.GET:
        return list(DEFAULT_STATUSES)
    wanted = {s for raw in request.GET.getlist("status") for s in raw.split(",") if s}
    return [s for s in MeetingStatus.values if s in wanted]


# ---------------------------------------------------------------- the meetings calendar


def _window_title(meeting: Meeting, kind: str, title: str | None = None) -> str:
    title = meeting.title if title is None else title
    if kind == WindowKind.REHEARSAL:
        return _("Rehearsal: %(title)s") % {"title": title}
    return title


def _calendar_event(meeting: Meeting, kind: str, window: Window) -> dict[str, Any]:
    tone = status.tone("meeting", meeting.status)
    return {
        "id": f"{meeting.pk}-{kind}",
        "groupId": str(meeting.pk),
        "title": _window_title(meeting, kind),
        "start": _local_iso(window.starts_at),
        "end": _local_iso(window.ends_at),
        "url": reverse("scheduling:meeting_detail", args=[meeting.pk]),
        "backgroundColor": tone.background,
        "borderColor": tone.border,
        "textColor": tone.text,
        "classNames": [f"meeting-{meeting.status}", f"window-{kind}"],
        "extendedProps": {
            "status": meeting.status,
            "statusLabel": str(meeting.get_status_display()),
            "kind": kind,
            "host": meeting.host_agency.name,
        },
    }


def _legend() -> list[dict[str, str]]:
    return status.legend("meeting")


def _fullcalendar_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    language = get_language() or "vi"
    return {
        "locale": "vi" if language.startswith("vi") else "en",
        "timeZone": active_rulebook().timezone,
        "now": _local_iso(timezone.now()),
        "initialDate": _day(request.GET.get("date")).isoformat(),
        **extra,
    }


@login_required
@require_safe
def calendar_page(request: HttpRequest) -> HttpResponse:
    """Month, week and day views of the meetings the user may see, coloured by status."""
    user = _user(request)
    legend = _legend()
    for item in legend:
        item["checked"] = "1" if item["value"] in DEFAULT_STATUSES else ""
    endpoints = Endpoint.objects.filter(status=EndpointStatus.APPROVED).order_by("name")
    config = _fullcalendar_config(
        request, eventsUrl=reverse("calendar:events"), initialView="timeGridWeek"
    )
    return render(
        request,
        "scheduling/calendar.html",
        {
            "legend": legend,
            "config": config,
            "endpoints": endpoints.only("pk", "name"),
            **_nav(user),
        },
    )


@login_required
@require_safe
def events_json(request: HttpRequest) -> JsonResponse:
    """FullCalendar's event source: one event per window (rehearsal, session) in range."""
    start, end = _range(request, MAX_EVENTS_RANGE)
    meetings = (
        meetings_visible_to(_user(request))
        .filter(status__in=_statuses(request))
        .filter(feeds.overlapping(start, end))
        .select_related("host_agency")
        .order_by("starts_at", "pk")
    )
    area = Window(start, end)
    events = [
        _calendar_event(meeting, kind, window)
        for meeting in meetings
        for kind, window in meeting_windows(meeting)
        if window.overlaps(area)
    ]
    return JsonResponse(events, safe=False)


@login_required
@require_safe
def meeting_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        meetings_visible_to(_user(request)).select_related("host_agency", "host_endpoint"), pk=pk
    )
    return _ics_response(ics.meeting_ics(meeting), f"meeting-{meeting.pk}.ics", cache="private")


# ---------------------------------------------------------------- an endpoint's busy times


def _busy_endpoint(user: User, pk: int) -> Endpoint:
    """Busy times are not secret: any admitted endpoint, or one the user may see anyway."""
    visible = Endpoint.objects.filter(
        Q(status=EndpointStatus.APPROVED) | Q(pk__in=endpoints_visible_to(user).values("pk"))
    )
    return get_object_or_404(visible.select_related("agency"), pk=pk)


@dataclass(frozen=True)
class BusyBlock:
    starts_at: dt.datetime
    ends_at: dt.datetime
    title: str
    url: str
    kind: str
    status: str


def _busy_blocks(
    user: User, endpoint: Endpoint, start: dt.datetime, end: dt.datetime
) -> list[BusyBlock]:
    """The endpoint's held windows; the meeting's title only when the user may see it."""
    rows = list(
        Booking.objects.filter(endpoint=endpoint, holds=True, starts_at__lt=end, ends_at__gt=start)
        .select_related("meeting")
        .order_by("starts_at", "pk")
    )
    visible = set(
        meetings_visible_to(user)
        .filter(pk__in={row.meeting_id for row in rows})
        .values_list("pk", flat=True)
    )
    blocks = []
    for row in rows:
        shown = row.meeting_id in visible
        blocks.append(
            BusyBlock(
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                title=_window_title(row.meeting, row.kind) if shown else _("Busy"),
                url=reverse("scheduling:meeting_detail", args=[row.meeting_id]) if shown else "",
                kind=row.kind,
                status=row.meeting.status if shown else "",
            )
        )
    return blocks


@login_required
@require_safe
def endpoint_pick(request: HttpRequest) -> HttpResponse:
    """The calendar page's "busy times of…" form lands here."""
    try:
        pk = int(request.GET.get("endpoint", ""))
    except ValueError:
        return redirect("calendar:calendar")
    return redirect("calendar:endpoint", pk=pk)


@login_required
@require_safe
def endpoint_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    endpoint = _busy_endpoint(user, pk)
    now = timezone.now()
    upcoming = _busy_blocks(user, endpoint, now, now + dt.timedelta(days=BUSY_LIST_DAYS))
    config = _fullcalendar_config(
        request,
        eventsUrl=reverse("calendar:endpoint_busy", args=[endpoint.pk]),
        initialView="timeGridWeek",
    )
    return render(
        request,
        "scheduling/calendar_endpoint.html",
        {
            "endpoint": endpoint,
            "upcoming": upcoming,
            "busy_days": BUSY_LIST_DAYS,
            "config": config,
            **_nav(user),
        },
    )


@login_required
@require_safe
def endpoint_busy_json(request: HttpRequest, pk: int) -> JsonResponse:
    user = _user(request)
    endpoint = _busy_endpoint(user, pk)
    start, end = _range(request, MAX_EVENTS_RANGE)
    events = []
    for block in _busy_blocks(user, endpoint, start, end):
        tone = status.tone("meeting", block.status)
        event: dict[str, Any] = {
            "title": block.title,
            "start": _local_iso(block.starts_at),
            "end": _local_iso(block.ends_at),
            "backgroundColor": tone.background,
            "borderColor": tone.border,
            "textColor": tone.text,
            "classNames": [f"window-{block.kind}"],
        }
        if block.url:
            event["url"] = block.url
        events.append(event)
    return JsonResponse(events, safe=False)


# ---------------------------------------------------------------- MCU node load (R11)


def load_steps(loads: Sequence[Load], within: Window) -> list[Step]:
    """The node's load over `within` for the chart: `capacity.sweep` — the sweep booking
    checks the cap with (KH Đ12.4a) — starting from zero at `within`'s start, one step per
    change of value, and a last step repeating the value at `within`'s end."""
    steps = [Step(within.starts_at, 0, 0)]
    for step in sweep(loads, [within]):
        if step.at >= within.ends_at:
            break
        if step.at == steps[-1].at:
            steps[-1] = step
        elif (step.meetings, step.endpoints) != (steps[-1].meetings, steps[-1].endpoints):
            steps.append(step)
    steps.append(Step(within.ends_at, steps[-1].meetings, steps[-1].endpoints))
    return steps


def _may_view_load(user: User | Any) -> bool:
    """Operators run the MCU; administrators and auditors watch it."""
    return role_allows(user, Action.MANAGE_MCU) or role_allows(user, Action.VIEW_AUDIT)


def _require_load_viewer(request: HttpRequest) -> User:
    user = _user(request)
    if not _may_view_load(user):
        raise Forbidden(_("Only MCU operators, administrators and auditors see the MCU load."))
    return user


@dataclass
class NodeLoad:
    node: McuNode
    meeting_cap: int
    endpoint_cap: int
    steps: list[Step]
    peak_meetings: int
    peak_endpoints: int

    @property
    def over_cap(self) -> bool:
        return self.peak_meetings > self.meeting_cap or self.peak_endpoints > self.endpoint_cap

    def intervals(self) -> Iterable[dict[str, Any]]:
        """The table fallback: each busy interval with its numbers."""
        for step, after in zip(self.steps, self.steps[1:], strict=False):
            if step.meetings and after.at > step.at:
                yield {
                    "starts_at": step.at,
                    "ends_at": after.at,
                    "meetings": step.meetings,
                    "endpoints": step.endpoints,
                    "over": step.meetings > self.meeting_cap or step.endpoints > self.endpoint_cap,
                }


def node_load(node: McuNode, within: Window) -> NodeLoad:
    """Computed from the node rows of held bookings (`planning.node_loads`), like approval."""
    cap = active_rulebook().capacity.cap_percent
    loads = node_loads(node, [within], exclude_meeting=0)
    top = peak(loads, [within])
    return NodeLoad(
        node=node,
        meeting_cap=node.meeting_cap(cap),
        endpoint_cap=node.endpoint_cap(cap),
        steps=load_steps(loads, within),
        peak_meetings=top.meetings,
        peak_endpoints=top.endpoints,
    )


def _load_payload(load: NodeLoad, within: Window) -> dict[str, Any]:
    node = load.node
    return {
        "node": {
            "id": node.pk,
            "name": node.name,
            "max_meetings": node.max_meetings,
            "max_endpoints": node.max_endpoints,
        },
        "cap_percent": active_rulebook().capacity.cap_percent,
        "meeting_cap": load.meeting_cap,
        "endpoint_cap": load.endpoint_cap,
        "start": _local_iso(within.starts_at),
        "end": _local_iso(within.ends_at),
        "points": [
            {
                "t": _local_iso(step.at),
                "ms": int(step.at.timestamp() * 1000),
                "meetings": step.meetings,
                "endpoints": step.endpoints,
            }
            for step in load.steps
        ],
        "peak": {"meetings": load.peak_meetings, "endpoints": load.peak_endpoints},
    }


@login_required
@require_safe
def load_json(request: HttpRequest) -> JsonResponse:
    _require_load_viewer(request)
    try:
        node = McuNode.objects.get(pk=int(request.GET.get("node", "")))
    except (ValueError, McuNode.DoesNotExist) as missing:
        raise Http404("no such MCU node") from missing
    start, end = _range(request, MAX_LOAD_RANGE)
    within = Window(start, end)
    return JsonResponse(_load_payload(node_load(node, within), within))


@login_required
@require_safe
def load_page(request: HttpRequest) -> HttpResponse:
    """Concurrent meetings and connected endpoints per node over a day or a week, with the
    rulebook's cap (KH Đ12.4a)."""
    user = _require_load_viewer(request)
    rulebook = active_rulebook()
    day = _day(request.GET.get("day"))
    span = "week" if request.GET.get("span") == "week" else "day"
    first = day - dt.timedelta(days=day.weekday()) if span == "week" else day
    length = dt.timedelta(days=7 if span == "week" else 1)
    within = Window(_local_midnight(first), _local_midnight(first + length))
    all_nodes = list(McuNode.objects.order_by("name"))
    picked = [n for n in all_nodes if str(n.pk) == request.GET.get("node", "")]
    chosen = str(picked[0].pk) if picked else ""
    nodes = picked or [n for n in all_nodes if n.is_active]
    loads = [node_load(node, within) for node in nodes]
    charts = [
        {
            "id": load.node.pk,
            "url": f"{reverse('calendar:load_json')}?"
            + f"node={load.node.pk}&start={first.isoformat()}&end={(first + length).isoformat()}",
        }
        for load in loads
    ]
    config = {
        "span": span,
        "timeZone": rulebook.timezone,
        "locale": "vi-VN" if (get_language() or "vi").startswith("vi") else "en-GB",
        "charts": charts,
        "labels": {
            "meetings": _("Concurrent meetings"),
            "endpoints": _("Connected endpoints"),
            "cap": _("Cap (%(percent)s%%)") % {"percent": rulebook.capacity.cap_percent},
        },
    }
    step = dt.timedelta(days=7 if span == "week" else 1)
    return render(
        request,
        "scheduling/calendar_load.html",
        {
            "loads": loads,
            "all_nodes": all_nodes,
            "chosen": chosen,
            "day": day,
            "span": span,
            "first": first,
            "last": first + length - dt.timedelta(days=1),
            "previous": (day - step).isoformat(),
            "next": (day + step).isoformat(),
            "cap_percent": rulebook.capacity.cap_percent,
            "capacity_article": rulebook.cite(rulebook.capacity.article),
            "config": config,
            **_nav(user),
        },
    )


# ---------------------------------------------------------------- agencies' feeds (R14)


@login_required
def feed_list(request: HttpRequest) -> HttpResponse:
    """The user's agency's feeds; creating one shows its link on this response only."""
    user = _user(request)
    agency = user.agency
    if agency is None or not may_manage_feeds(user, agency):
        raise Forbidden(_("Only an agency's office, the operator and administrators manage feeds."))
    feed_url = ""
    if request.method == "POST":
        outcome = call_service(request, forms.Form(), lambda: create_feed(agency, actor=user))
        if outcome.ok and outcome.value is not None:
            raw = outcome.value[1]
            feed_url = public_url.absolute(reverse("calendar:feed", args=[raw]), request)
    feeds_of_agency = CalendarFeed.objects.filter(agency=agency).select_related("created_by")
    response = render(
        request,
        "scheduling/feed_list.html",
        {
            "agency": agency,
            "feeds": feeds_of_agency.order_by("revoked_at", "-created_at"),
            "feed_url": feed_url,
            "webcal_url": feed_url.replace("https://", "webcal://", 1).replace(
                "http://", "webcal://", 1
            ),
            "past_days": feeds.FEED_PAST.days,
            **_nav(user),
        },
    )
    return no_store(response)


@login_required
@require_POST
def feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    feed = get_object_or_404(CalendarFeed, pk=pk, agency_id=user.agency_id)
    outcome = call_service(request, forms.Form(), lambda: revoke_feed(feed, actor=user))
    if outcome.ok:
        messages.success(request, _("The calendar feed was revoked; its link no longer works."))
    return redirect("calendar:feeds")


def _ics_response(body: bytes, filename: str, *, cache: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = cache
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """An agency's schedule for calendar apps: no login, the secret link is the key."""
    subscription = feeds.feed_for_token(token)
    if subscription is None:
        raise Http404("unknown or revoked calendar feed")
    agency = subscription.agency
    meetings = feeds.agency_schedule(agency, *feeds.feed_range())
    name = _("%(agency)s — online meetings") % {"agency": agency.name}
    body = ics.schedule_ics(meetings, name, contacts=True)
    # Not kept by proxies, and re-read each time, so revoking takes effect at once.
    return _ics_response(body, "lich-hop.ics", cache="private, no-cache")


# ---------------------------------------------------------------- the public schedule (R14)


@dataclass(frozen=True)
class PublicRow:
    """What the public schedule may say about a meeting — nothing else reaches the page."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    rehearsal_starts_at: dt.datetime | None
    rehearsal_ends_at: dt.datetime | None
    host: str
    title: str
    place: str
    endpoints: int
    live: bool
    secret: bool


def public_row(meeting: Meeting) -> PublicRow:
    secret = feeds.is_state_secret(meeting)
    return PublicRow(
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        rehearsal_starts_at=meeting.rehearsal_starts_at,
        rehearsal_ends_at=meeting.rehearsal_ends_at,
        host=meeting.host_agency.name,
        title=feeds.public_title(meeting),
        place="" if secret else meeting.place,
        endpoints=feeds.endpoint_count(meeting),
        live=meeting.status == MeetingStatus.LIVE,
        secret=secret,
    )


@require_safe
def public_schedule(request: HttpRequest) -> HttpResponse:
    """The accepted schedule of a week, published to every agency (ĐN Đ14.3)."""
    day = _day(request.GET.get("week"))
    monday = day - dt.timedelta(days=day.weekday())
    start, end = _local_midnight(monday), _local_midnight(monday + dt.timedelta(days=7))
    meetings = feeds.published().filter(starts_at__gte=start, starts_at__lt=end)
    days: dict[dt.date, list[PublicRow]] = {}
    for meeting in meetings:
        days.setdefault(timezone.localdate(meeting.starts_at), []).append(public_row(meeting))
    user = request.user
    return render(
        request,
        "scheduling/public_schedule.html",
        {
            "days": sorted(days.items()),
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "previous": (monday - dt.timedelta(days=7)).isoformat(),
            "next": (monday + dt.timedelta(days=7)).isoformat(),
            "this_week": timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()),
            "ics_url": public_url.absolute(reverse("calendar:public_schedule_ics"), request),
            "count": sum(len(rows) for rows in days.values()),
            **(_nav(user) if user.is_authenticated else {}),
        },
    )


@require_safe
def public_schedule_ics(request: HttpRequest) -> HttpResponse:
    """The whole province's published schedule, with the public page's rules."""
    meetings = feeds.province_schedule(*feeds.feed_range())
    name = _("Online meetings — %(province)s") % {"province": active_rulebook().province_name}
    body = ics.schedule_ics(meetings, name, contacts=False)
    return _ics_response(body, "lich-hop-cong-khai.ics", cache="public, max-age=300")
