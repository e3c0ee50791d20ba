"""Pages of the live meeting (R16–R18): the device check and the room of a participant (by
login or by join link), the host console with its join links, the operator console, the
grant as JSON for the room's script, and the attendance export.

The consoles are drawn once from the same state dictionaries the WebSockets push on every
change (`selectors`), so the page and the live updates never disagree. Views change nothing
themselves: the grant and the join links are service calls (`joining`), and the host controls
go over the console WebSocket to `control`.

A meeting outside the user's scope is "not found" (404); a meeting the user sees but may not
control is "forbidden" (403) on its console.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from diemcau.core import csv_cells, public_url
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.meeting_page import LiveEntry, MeetingPanel
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to
from diemcau.scheduling.services.interconnection import may_set_upstream_link
from diemcau.ui.service_calls import call_service, no_store

from . import extensions, selectors
from .forms import JoinLinkForm
from .models import JoinLink, Layout
from .permissions import can_control, is_operator, joinable_endpoints
from .services import grants, join_links
from .services.join_links import LINK_GRACE_AFTER_END

OPEN_STATUSES = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE)

# ---------------------------------------------------------------- helpers


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _meeting(user: User, pk: int) -> Meeting:
    related = ("host_agency", "host_endpoint__agency", "node")
    return get_object_or_404(meetings_visible_to(user).select_related(*related), pk=pk)


def _controlled_meeting(user: User, pk: int) -> Meeting:
    meeting = _meeting(user, pk)
    if not can_control(user, meeting):
        raise Forbidden(_("Only the technicians of the controlling endpoint and the MCU "
                          "operators may control this meeting."))
    return meeting


def _meeting_endpoints(meeting: Meeting) -> Any:
    ids = set(meeting.participants.values_list("pk", flat=True))
    if meeting.host_endpoint_id:
        ids.add(meeting.host_endpoint_id)
    return Endpoint.objects.filter(pk__in=ids)


def _linkable_endpoints(user: User, meeting: Meeting) -> Any:
    """The endpoints the user may hand a join link (the service checks it again)."""
    if can_control(user, meeting):
        return _meeting_endpoints(meeting)
    return joinable_endpoints(user, meeting)


def janus_ws_url(meeting: Meeting) -> str:
    """Where browsers reach the meeting's media server (not a secret: every call needs a
    one-off token from the grant)."""
    from django.conf import settings

    node: McuNode | None = meeting.node
    return (node.ws_url if node else "") or settings.JANUS_PUBLIC_WS_URL


def allow_media_server(response: HttpResponse, meeting: Meeting) -> HttpResponse:
    """The page's scripts (janus.js, the device check) open a WebSocket to the meeting's
    Janus: the Content-Security-Policy of this response lets them reach that origin, and no
    other (core.middleware.ContentSecurityPolicyMiddleware)."""
    parts = urlsplit(janus_ws_url(meeting))
    if parts.scheme in {"ws", "wss", "http", "https"} and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
        response._csp_update = {"connect-src": [origin]}  # type: ignore[attr-defined]
    return response


def refusal_json(error: Exception) -> JsonResponse:
    """A refused grant as JSON: the message, and the article for a rule (R20)."""
    body: dict[str, Any] = {"ok": False, "message": str(error)}
    if isinstance(error, RuleViolation):
        body.update(message=error.message, article=error.article, field=error.field,
                    code=error.code)
        status = 422
    elif isinstance(error, InvalidInput):
        body.update(fields=error.errors)
        status = 422
    elif isinstance(error, InvalidTransition):
        status = 409
    else:
        status = 403
    return JsonResponse(body, status=status)


def grant_json(given: grants.JoinGrant) -> JsonResponse:
    response = JsonResponse({"ok": True, **given.as_json()}, status=201)
    no_store(response)
    return response


def _endpoint_from_body(request: HttpRequest) -> Endpoint:
    try:
        data = json.loads(request.body or b"{}") if request.content_type == "application/json" \
            else request.POST
        endpoint_id = int(data.get("endpoint") or 0)
    except (ValueError, TypeError, AttributeError):
        endpoint_id = 0
    endpoint = Endpoint.objects.select_related("agency").filter(pk=endpoint_id).first()
    if endpoint is None:
        raise InvalidInput({"endpoint": [_("Choose the endpoint to connect.")]})
    return endpoint


# ---------------------------------------------------------------- the grant (JSON)


@require_POST
def grant_by_login(request: HttpRequest, pk: int) -> JsonResponse:
    """A place in the live meeting for one endpoint the user may connect (CSRF-protected:
    it acts with the session)."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "message": _("Log in first.")}, status=403)
    user = _user(request)
    meeting = _meeting(user, pk)
    try:
        endpoint = _endpoint_from_body(request)
        given = grants.grant_by_login(meeting, endpoint, actor=user)
    except (RuleViolation, InvalidInput, InvalidTransition, PermissionDenied) as error:
        return refusal_json(error)
    return grant_json(given)


@csrf_exempt  # no session is used: the link's token is the credential
@require_POST
def grant_by_link(request: HttpRequest, token: str) -> JsonResponse:
    try:
        given = grants.grant_by_link(token)
    except (RuleViolation, InvalidInput, InvalidTransition, PermissionDenied) as error:
        return refusal_json(error)
    return grant_json(given)


# ---------------------------------------------------------------- device check and room


def _status_notice(meeting: Meeting) -> str:
    if meeting.status in OPEN_STATUSES:
        return ""
    return _("This meeting is not open: it is %(status)s.") % {
        "status": meeting.get_status_display()
    }


def _room_window(meeting: Meeting) -> dict[str, Any]:
    """The join button is enabled only while the room is open; before, it says when it
    opens, and the page's script enables it then (seconds from now, whatever the clock of
    the browser says)."""
    now = timezone.now()
    state, opens = grants.room_window(meeting, now)
    return {
        "room_state": state,
        "room_opens_at": opens,
        "room_opens_in": max(0, int((opens - now).total_seconds()) + 1),
    }


@login_required
@require_GET
def join_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The device check before joining by login, with the choice of endpoint."""
    user = _user(request)
    meeting = _meeting(user, pk)
    endpoints = list(joinable_endpoints(user, meeting).order_by("agency__path", "name"))
    if not endpoints:
        raise Forbidden(_("You may not connect any endpoint of this meeting."))
    return allow_media_server(render(request, "media/join_check.html", {
        "meeting": meeting,
        "endpoints": endpoints,
        "chosen": next((e for e in endpoints if e.pk == meeting.host_endpoint_id), endpoints[0]),
        "notice": _status_notice(meeting),
        **_room_window(meeting),
        "janus_ws_url": janus_ws_url(meeting),
        "grant_url": reverse("media:grant", args=[meeting.pk]),
        "room_url": reverse("media:room", args=[meeting.pk]),
        "back_url": reverse("scheduling:meeting_detail", args=[meeting.pk]),
        "texts": script_texts(),
    }), meeting)


def _link_or_error(request: HttpRequest, token: str) -> JoinLink | HttpResponse:
    try:
        return join_links.link_from_token(token)
    except PermissionDenied as error:
        response = render(request, "media/link_invalid.html", {"message": str(error)},
                          status=403)
        return no_store(response)


@require_GET
def link_check(request: HttpRequest, token: str) -> HttpResponse:
    """The device check of a join link (no login)."""
    link = _link_or_error(request, token)
    if isinstance(link, HttpResponse):
        return link
    meeting = Meeting.objects.select_related("node", "host_agency").get(pk=link.meeting_id)
    endpoint = Endpoint.objects.select_related("agency").get(pk=link.endpoint_id)
    response = render(request, "media/join_check.html", {
        "meeting": meeting,
        "endpoints": [endpoint],
        "chosen": endpoint,
        "link": link,
        "notice": _status_notice(meeting),
        **_room_window(meeting),
        "janus_ws_url": janus_ws_url(meeting),
        "grant_url": reverse("media:link_grant", args=[token]),
        "room_url": reverse("media:link_room", args=[token]),
        "back_url": "",
        "texts": script_texts(),
    })
    return no_store(allow_media_server(response, meeting))


def _room_context(meeting: Meeting, *, grant_url: str, check_url: str) -> dict[str, Any]:
    return {
        "meeting": meeting,
        "grant_url": grant_url,
        "check_url": check_url,
        "ws_path": "/ws/live/participant/",
        "texts": script_texts(),
        "panels": extensions.room_panels(meeting),
    }


@login_required
@require_GET
def room(request: HttpRequest, pk: int) -> HttpResponse:
    """The participant's room (by login); the script takes the grant made on the device check
    page, or asks for a new one (a reload) for the endpoint in `?endpoint=`."""
    user = _user(request)
    meeting = _meeting(user, pk)
    if not joinable_endpoints(user, meeting).exists():
        raise Forbidden(_("You may not connect any endpoint of this meeting."))
    return allow_media_server(render(request, "media/room.html", _room_context(
        meeting,
        grant_url=reverse("media:grant", args=[meeting.pk]),
        check_url=reverse("media:join", args=[meeting.pk]),
    )), meeting)


@require_GET
def link_room(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_or_error(request, token)
    if isinstance(link, HttpResponse):
        return link
    meeting = Meeting.objects.select_related("node").get(pk=link.meeting_id)
    response = render(request, "media/room.html", _room_context(
        meeting,
        grant_url=reverse("media:link_grant", args=[token]),
        check_url=reverse("media:link_check", args=[token]),
    ) | {"link_endpoint": link.endpoint_id})
    return no_store(allow_media_server(response, meeting))


# ---------------------------------------------------------------- host console


def _links(user: User, meeting: Meeting) -> list[JoinLink]:
    links = JoinLink.objects.filter(meeting=meeting).select_related("endpoint__agency")
    if not can_control(user, meeting):
        links = links.filter(endpoint__in=joinable_endpoints(user, meeting))
    return list(links.order_by("-created_at"))


def _console(request: HttpRequest, meeting: Meeting, *, form: JoinLinkForm | None = None,
             new_link: str = "", status: int = 200) -> HttpResponse:
    user = _user(request)
    endpoints = _linkable_endpoints(user, meeting)
    context = {
        "meeting": meeting,
        "state": selectors.live_state(meeting, user=user),
        "link_form": form or JoinLinkForm(endpoints=endpoints),
        "links": _links(user, meeting),
        "new_link": new_link,
        "now": timezone.now(),
        "open": meeting.status in OPEN_STATUSES,
        "layouts": Layout.choices,
        "may_set_upstream": may_set_upstream_link(user, meeting),
        "texts": script_texts(),
        "panels": extensions.console_panels(user, meeting),
    }
    response = render(request, "media/console.html", context, status=status)
    return no_store(response) if new_link else response


@login_required
@require_GET
def console(request: HttpRequest, pk: int) -> HttpResponse:
    """The host console: connections, the speaking queue, the room's controls (live over
    ws/live/meetings/<id>/) and the meeting's join links."""
    meeting = _controlled_meeting(_user(request), pk)
    return _console(request, meeting)


@login_required
@require_POST
def link_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a join link; its address is shown only in this response."""
    user = _user(request)
    meeting = _controlled_meeting(user, pk)
    form = JoinLinkForm(request.POST, endpoints=_linkable_endpoints(user, meeting))
    if not form.is_valid():
        return _console(request, meeting, form=form, status=400)
    outcome = call_service(request, form, lambda: join_links.issue_join_link(
        meeting, form.cleaned_data["endpoint"], actor=user,
        valid_until=form.cleaned_data.get("valid_until"),
    ))
    if not outcome.ok or outcome.value is None:
        return _console(request, meeting, form=form, status=400)
    _, token = outcome.value
    url = public_url.absolute(reverse("media:link_check", args=[token]), request)
    fresh = JoinLinkForm(endpoints=_linkable_endpoints(user, meeting))
    return _console(request, meeting, form=fresh, new_link=url)


@login_required
@require_POST
def link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    link = get_object_or_404(
        JoinLink.objects.filter(meeting__in=meetings_visible_to(user)), pk=pk
    )
    meeting = _controlled_meeting(user, link.meeting_id)
    try:
        join_links.revoke_join_link(link, actor=user)
    except InvalidTransition as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        raise Forbidden(str(error)) from error
    else:
        messages.success(request, _("The join link was revoked: it no longer opens the room."))
    return redirect(reverse("media:console", args=[meeting.pk]) + "#links")


# ---------------------------------------------------------------- operator console


@login_required
@require_GET
def operator_console(request: HttpRequest) -> HttpResponse:
    """Every live meeting, the nodes' load against capacity, poor connections and open
    incidents, live over ws/live/operator/ (MCU operators only)."""
    if not is_operator(_user(request)):
        raise Forbidden(_("Only MCU operators see the operator console."))
    return render(request, "media/operator.html", {
        "overview": selectors.operator_overview_json(),
        "texts": script_texts(),
    })


# ---------------------------------------------------------------- attendance (R18)


@login_required
@require_GET
def attendance_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The attendance as a spreadsheet (R18): the meeting's title, time and host first, then
    every invited endpoint — present or absent — with its times, and when the host removed
    it from the room."""
    meeting = _meeting(_user(request), pk)
    day = timezone.localtime(meeting.starts_at)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="diem-danh-{day:%Y-%m-%d}-phien-hop-{meeting.pk}.csv"')
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # Excel reads UTF-8 (Vietnamese names) only with the BOM
    writer = csv_cells.writer(response)
    lines = selectors.attendance(meeting)
    present = sum(1 for line in lines if line.present)
    writer.writerow([_("Meeting"), meeting.title])
    writer.writerow([_("Time"), f"{_local(meeting.starts_at, seconds=False)}–"
                                f"{timezone.localtime(meeting.ends_at):%H:%M}"])
    writer.writerow([_("Host"), meeting.host_agency.name])
    writer.writerow([_("Status"), meeting.get_status_display()])
    writer.writerow([_("Present"), _("%(present)s of %(invited)s endpoints")
                     % {"present": present, "invited": len(lines)}])
    writer.writerow([_("Exported at"), _local(timezone.now(), seconds=False)])
    writer.writerow([])
    writer.writerow([_("Endpoint"), _("Agency"), _("Attendance"), _("First joined"),
                     _("Last left"), _("Minutes connected"), _("Connections"), _("Attendees"),
                     _("Still connected"), _("Removed by the host")])
    for line in lines:
        writer.writerow([
            line.endpoint, line.agency, _attendance_word(line), _local(line.first_joined),
            _local(line.last_left), round(line.connected_seconds / 60), line.connections,
            "" if line.attendee_count is None else line.attendee_count,
            _("yes") if line.still_connected else "",
            "; ".join(_local(moment) for moment in line.removed_at),
        ])
    return response


def _attendance_word(line: selectors.AttendanceLine) -> str:
    if not line.present:
        return _("Absent")
    if line.removed_at and not line.still_connected:
        return _("Present, removed by the host")
    return _("Present")


def _local(moment: Any, *, seconds: bool = True) -> str:
    pattern = "%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M"
    return timezone.localtime(moment).strftime(pattern) if moment else ""


def meeting_panel(user: User, meeting: Meeting) -> MeetingPanel:
    """What the meeting page shows of the live meeting: the join and console buttons, when
    allowed, and the attendance (R18). Registered with the meeting page in `apps.py`."""
    is_open = meeting.status in OPEN_STATUSES
    lines = selectors.attendance(meeting)
    context = {
        "live_may_join": is_open and joinable_endpoints(user, meeting).exists(),
        "live_may_control": is_open and can_control(user, meeting),
        "attendance": lines,
        # Once the meeting is over an endpoint that never came was absent; before, not yet.
        "attendance_final": meeting.status not in OPEN_STATUSES
        or meeting.ends_at <= timezone.now(),
        "attendance_shown": meeting.status in (*OPEN_STATUSES, MeetingStatus.ENDED)
        or any(line.connections for line in lines),
    }
    return MeetingPanel(
        buttons_template="media/_meeting_live_buttons.html",
        section_template="media/_attendance.html",
        context=context,
        has_buttons=bool(context["live_may_join"] or context["live_may_control"]),
    )


def live_entries(user: User, meetings: list[Meeting]) -> dict[int, LiveEntry]:
    """The meetings of a list whose room is open now, with the way in: "Vào họp" (the device
    check) for who may connect one of its endpoints, the host console for who only controls
    it. Registered with the meeting lists in `apps.py`."""
    now = timezone.now()
    found: dict[int, LiveEntry] = {}
    for meeting in meetings:
        # Cheap tests first: only a meeting accepted or live, not over, is worth the rest.
        if meeting.status not in OPEN_STATUSES or meeting.ends_at < now - LINK_GRACE_AFTER_END:
            continue
        if grants.room_window(meeting, now)[0] != "open":
            continue
        if joinable_endpoints(user, meeting).exists():
            found[meeting.pk] = LiveEntry(reverse("media:join", args=[meeting.pk]),
                                          _("Enter the meeting"))
        elif can_control(user, meeting):
            found[meeting.pk] = LiveEntry(reverse("media:console", args=[meeting.pk]),
                                          _("Host console"), icon="sliders", kind="console")
    return found


# ---------------------------------------------------------------- texts for the scripts


def script_texts() -> dict[str, str]:
    """The words the pages' scripts show, in the page's language (they go to the page as a
    JSON block: the scripts hold no text of their own)."""
    return {
        "ok": _("OK"),
        "failed": _("Failed"),
        "checking": _("Checking…"),
        "ms": _("%(ms)s ms"),
        "camera_ok": _("Camera works"),
        "camera_failed": _("No camera picture: %(reason)s"),
        "mic_ok": _("Microphone works: speak and watch the level"),
        "mic_failed": _("No microphone: %(reason)s"),
        "mic_silent": _("The microphone hears nothing yet: speak to test it"),
        "server_failed": _("The server's live channel does not answer"),
        "janus_failed": _("The media server does not answer"),
        "slow": _("slow"),
        "joining": _("Joining…"),
        "refused": _("Refused"),
        "network_error": _("The server cannot be reached. Check the network and try again."),
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost: reconnecting…"),
        "forbidden": _("You may not open this console."),
        "done": _("Done"),
        "you": _("You"),
        "host": _("Host"),
        "muted": _("Microphone off"),
        "unmuted": _("Microphone on"),
        "camera_off": _("Camera off"),
        "has_floor": _("You have the floor"),
        "speaking": _("Has the floor"),
        "raise_hand": _("Ask to speak"),
        "lower_hand": _("Withdraw the request"),
        "queue_position": _("You are number %(n)s in the speaking queue"),
        "waiting_floor": _("Your microphone opens when the host gives you the floor."),
        "mute_self": _("Mute my microphone"),
        "unmute_self": _("Turn my microphone on"),
        "finish_speaking": _("Finish speaking"),
        "host_microphone": _("You host the meeting: you turn your microphone on and off "
                             "yourself."),
        "floor_muted": _("You still have the floor: turn your microphone on to speak, or "
                         "finish speaking."),
        "locked": _("Locked"),
        "recording": _("Recording"),
        "main_picture": _("Main picture"),
        "nobody": _("Waiting for the other endpoints…"),
        "enable_sound": _("Turn the sound on"),
        "left": _("You left the meeting."),
        "kicked": _("The host removed this endpoint from the meeting."),
        "ended": _("The meeting has ended."),
        "lost": _("The connection to the meeting was lost."),
        "rejoining": _("Joining again in %(n)s s…"),
        "replaced": _("This endpoint joined from another device: this page was disconnected."),
        "join_again": _("Join again"),
        "no_devices": _("Camera and microphone could not be opened: %(reason)s"),
        "media_failed": _("The media server refused the connection: %(reason)s"),
        "attendees_sent": _("Attendee count sent to the host"),
        "quality_good": _("Good"),
        "quality_fair": _("Fair"),
        "quality_poor": _("Poor"),
        "quality_unknown": _("Not measured yet"),
        "connecting_endpoint": _("connecting"),
        "mute": _("Mute"),
        "give_floor": _("Give the floor"),
        "lower": _("Decline"),
        "spotlight": _("Main picture"),
        "spotlight_off": _("Back to the automatic main picture"),
        "kick": _("Remove"),
        "confirm_kick": _("Remove %(name)s from the meeting?"),
        "confirm_end": _("End the meeting for every endpoint? This cannot be undone."),
        "confirm_mute_all": _("Mute every endpoint but the host's?"),
        "lock": _("Lock"),
        "unlock": _("Unlock"),
        "record_start": _("Start recording"),
        "record_stop": _("Stop recording"),
        "no_one": _("No endpoint connected yet."),
        "queue_empty": _("Nobody asked to speak."),
        "attendees": _("Attendees"),
        "incident_sent": _("Sent to the MCU operator as an incident."),
        "no_live": _("No live meeting now."),
        "no_poor": _("No poor connection."),
        "no_incident": _("No open incident."),
        "open_console": _("Console"),
        "call": _("Call"),
        "call_again": _("Call again"),
        "hang_up": _("Hang up"),
        "hanging_up": _("Hanging up…"),
        "confirm_hang_up": _("Hang up %(name)s?"),
        "sip": _("SIP"),
        "terminal": _("Hardware terminal"),
        "no_terminals": _("No invited endpoint has a hardware terminal to call."),
        "terminal_in_room": _("In the room"),
        "by_browser": _("Connected from a browser"),
        "dialled_in": _("Called the meeting"),
        "call_upstream": _("Call the upstream MCU"),
        "test_link": _("Test the link"),
        "test_passed": _("Link test passed (%(time)s)."),
        "test_failed": _("Link test failed: %(reason)s"),
        "test_running": _("Testing the link…"),
        "no_calls": _("No call yet."),
        "from": _("from %(source)s"),
        "upstream": _("Upstream MCU"),
        "link_saved": _("Upstream link saved."),
        "sip_terminals": _("SIP terminals"),
        "issue_link": _("Join link"),
        "issue_link_for": _("Issue a join link for %(name)s"),
        "not_admitted": _("Not admitted: it cannot join."),
        "present_count": _("%(n)s in the room"),
        "absent_count": _("%(n)s not joined"),
        "absent_list": _("Not joined yet"),
        "mixers": _("Mixers"),
    }
