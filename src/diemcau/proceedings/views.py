"""Pages of the session's script and of the closing checklist, the operator's list of closing
items left open, and what this app adds to the meeting page, the host console and the
participants' room (registered in `apps.py`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.media.extensions import Panel
from diemcau.media.models import Participation
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.meeting_page import MeetingPanel
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to
from diemcau.ui.service_calls import call_service

from . import selectors
from .choices import ItemState
from .models import AgendaItem
from .permissions import (
    SCRIPT_EDITABLE,
    can_run_script,
    can_write_script,
    meeting_endpoints,
)
from .services import closing, script


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _meeting(user: User, pk: int) -> Meeting:
    """A meeting the user may see, or 404 (the same scope as the meeting page)."""
    return get_object_or_404(
        meetings_visible_to(user).select_related("host_agency", "host_endpoint__agency"), pk=pk)


# ---------------------------------------------------------------- forms


class ItemForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Item"), max_length=250)
    speaker = forms.ModelChoiceField(label=gettext_lazy("Speaking endpoint"),
                                     queryset=Endpoint.objects.none(), required=False)
    speaker_name = forms.CharField(label=gettext_lazy("Speaker (name, title)"), max_length=160,
                                   required=False)
    minutes = forms.IntegerField(label=gettext_lazy("Planned minutes"), min_value=1,
                                 max_value=script.MAX_MINUTES, required=False)

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["speaker"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = meeting_endpoints(meeting)

    def item_input(self) -> script.ItemInput:
        data = self.cleaned_data
        return script.ItemInput(data["title"], data["speaker"], data["speaker_name"] or "",
                                data["minutes"])


class MoveForm(forms.Form):
    position = forms.IntegerField(label=gettext_lazy("Order"), min_value=1, max_value=10_000)


class TickForm(forms.Form):
    item = forms.CharField(max_length=40)
    # An endpoint's id, or "operator" for the operator's own items.
    party = forms.CharField(max_length=20)
    done = forms.BooleanField(required=False)
    remarks = forms.CharField(label=gettext_lazy("Remarks"), max_length=500, required=False)


# ---------------------------------------------------------------- the script's page


def _script_page(request: HttpRequest, meeting: Meeting, *, form: ItemForm | None = None,
                 status: int = 200) -> HttpResponse:
    user = _user(request)
    writable = can_write_script(user, meeting) and meeting.status in SCRIPT_EDITABLE
    rulebook = active_rulebook()
    context = {
        "meeting": meeting,
        "items": selectors.items(meeting),
        "form": form or ItemForm(meeting=meeting),
        "writable": writable,
        "runnable": can_run_script(user, meeting) and meeting.status in (
            MeetingStatus.ACCEPTED, MeetingStatus.LIVE),
        "technician": selectors.technician_row(meeting),
        "rule": rulebook.script,
        "article": rulebook.cite(rulebook.script.article),
    }
    return render(request, "proceedings/script.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def script_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The host's agenda: the items, their speakers and the speaking order; a new item is
    added with the form at its foot."""
    user = _user(request)
    meeting = _meeting(user, pk)
    if request.method == "GET":
        return _script_page(request, meeting)
    form = ItemForm(request.POST, meeting=meeting)
    if form.is_valid():
        outcome = call_service(request, form, lambda: script.add_item(
            meeting, form.item_input(), actor=user))
        if outcome.ok:
            messages.success(request, _("Item added to the script."))
            return redirect("proceedings:script", pk=meeting.pk)
    return _script_page(request, meeting, form=form, status=400)


def _item(user: User, pk: int) -> AgendaItem:
    item = get_object_or_404(AgendaItem.objects.select_related("meeting"), pk=pk)
    if not meetings_visible_to(user).filter(pk=item.meeting_id).exists():
        raise Http404
    return item


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = _item(user, pk)
    meeting = item.meeting
    if not can_write_script(user, meeting):
        raise Forbidden(_("You may not change this meeting's script."))
    initial = {"title": item.title, "speaker": item.speaker_id,
               "speaker_name": item.speaker_name, "minutes": item.minutes}
    form = ItemForm(request.POST if request.method == "POST" else None, meeting=meeting,
                    initial=initial)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: script.update_item(
            item, form.item_input(), actor=user))
        if outcome.ok:
            messages.success(request, _("Item saved."))
            return redirect("proceedings:script", pk=meeting.pk)
    return render(request, "proceedings/item_form.html", {"meeting": meeting, "item": item,
                                                          "form": form},
                  status=400 if request.method == "POST" else 200)


def _post_item_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _user(request)
    item = _item(user, pk)
    form: forms.Form = MoveForm(request.POST) if action == "move" else forms.Form(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the item's new place in the order."))
        return redirect("proceedings:script", pk=item.meeting_id)
    if action == "move":
        call_service(request, form, lambda: script.move_item(
            item, position=form.cleaned_data["position"], actor=user))
    elif action == "remove":
        call_service(request, form, lambda: script.remove_item(item, actor=user))
    else:
        started = call_service(request, form, lambda: script.start_item(item, actor=user))
        if started.ok and started.value is not None:
            _tell_floor(request, started.value)
    _messages_from(request, form)
    return redirect("proceedings:script", pk=item.meeting_id)


def _messages_from(request: HttpRequest, form: forms.Form) -> None:
    """A refusal the service put on the form, shown on the page it redirects to."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _tell_floor(request: HttpRequest, moved: script.Moved) -> None:
    if moved.item is None:
        messages.success(request, _("The script is finished."))
    elif moved.floor == script.Floor.GIVEN:
        messages.success(request, _("“%(item)s” has begun; %(speaker)s has the floor.")
                         % {"item": moved.item.title, "speaker": moved.item.speaker})
    else:
        messages.success(request, _("“%(item)s” has begun.") % {"item": moved.item.title})
        if moved.message:
            messages.warning(request, moved.message)


@login_required
@require_POST
def item_move(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_item_action(request, pk, "move")


@login_required
@require_POST
def item_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_item_action(request, pk, "remove")


@login_required
@require_POST
def item_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_item_action(request, pk, "start")


@login_required
@require_POST
def script_next(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = _meeting(user, pk)
    form = forms.Form(request.POST)
    outcome = call_service(request, form, lambda: script.next_item(meeting, actor=user))
    if outcome.ok and outcome.value is not None:
        _tell_floor(request, outcome.value)
    _messages_from(request, form)
    return redirect("proceedings:script", pk=meeting.pk)


# ---------------------------------------------------------------- the closing checklist


@login_required
@require_http_methods(["GET", "POST"])
def closing_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Each endpoint's and the operator's closing items, ticked once the session has ended
    (ĐN Đ13.1, KH Đ15.1)."""
    user = _user(request)
    meeting = _meeting(user, pk)
    status = 200
    if request.method == "POST":
        form = TickForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            outcome = call_service(request, form, lambda: closing.set_tick(
                meeting, item=data["item"], endpoint=_tick_party(meeting, data["party"]),
                done=data["done"],
                remarks=data["remarks"] or "", actor=user))
            if outcome.ok:
                messages.success(request, _("Closing checklist saved."))
                return redirect("proceedings:closing", pk=meeting.pk)
        _messages_from(request, form)
        status = 400
    rulebook = active_rulebook()
    refusal = closing.closing_refusal(meeting)
    return render(request, "proceedings/closing.html", {
        "meeting": meeting,
        "parties": selectors.checklist(meeting, user),
        "refusal": str(refusal) if refusal else "",
        "rule": rulebook.closing,
        "article": rulebook.cite(rulebook.closing.article),
    }, status=status)


def _tick_party(meeting: Meeting, party: str) -> Endpoint | None:
    if party == "operator":
        return None
    try:
        return meeting_endpoints(meeting).get(pk=int(party))
    except (ValueError, Endpoint.DoesNotExist):
        raise InvalidInput({"party": [_("This endpoint is not in the meeting.")]}) from None


@login_required
@require_GET
def open_closing(request: HttpRequest) -> HttpResponse:
    """The closing items left open after the meetings ended lately: all of them for the
    operators, one's own endpoints' for everyone else."""
    user = _user(request)
    rulebook = active_rulebook()
    return render(request, "proceedings/open_closing.html", {
        "rows": selectors.open_closing(user),
        "days": selectors.OPEN_CLOSING_DAYS,
        "late_after_hours": rulebook.closing.late_after_hours,
        "article": rulebook.cite(rulebook.closing.article),
    })


# ---------------------------------------------------------------- the meeting page


def meeting_panel(user: User, meeting: Meeting) -> MeetingPanel | None:
    """The script's and the checklist's links and counts on the meeting page."""
    count = AgendaItem.objects.filter(meeting=meeting).count()
    writable = can_write_script(user, meeting) and meeting.status in SCRIPT_EDITABLE
    ended = meeting.status == MeetingStatus.ENDED
    if not count and not writable and not ended:
        return None
    open_items = 0
    if ended:
        open_items = sum(party.open_count for party in selectors.checklist(meeting))
    return MeetingPanel(
        section_template="proceedings/_meeting_panel.html",
        context={"proceedings_items": count,
                 "proceedings_script_url": reverse("proceedings:script", args=[meeting.pk]),
                 "proceedings_closing_url": reverse("proceedings:closing", args=[meeting.pk]),
                 "proceedings_ended": ended,
                 "proceedings_open": open_items},
    )


# ---------------------------------------------------------------- the console and the room


def console_state(meeting: Meeting, user: User | None) -> dict[str, Any]:
    """Sent with the host console's state: the script, the item under way and the next, the
    named technician of the controlling endpoint."""
    return selectors.script_state(meeting) | {
        "technician": selectors.technician_row(meeting),
        "may_run": bool(user is not None and can_run_script(user, meeting)),
        "script_url": reverse("proceedings:script", args=[meeting.pk]),
    }


def participant_state(participation: Participation) -> dict[str, Any] | None:
    """What the participants see: the item under way (if the rulebook shows it)."""
    if not active_rulebook().script.shown_to_participants:
        return None
    current = (AgendaItem.objects.filter(meeting_id=participation.meeting_id,
                                         state=ItemState.CURRENT)
               .select_related("speaker").first())
    return {"current": selectors.item_row(current) if current else None}


def _moved_json(moved: script.Moved) -> None:
    if moved.floor == script.Floor.REFUSED:
        raise InvalidInput({"speaker": [moved.message]})


def console_next(user: User, meeting: Meeting, content: dict[str, Any]) -> None:
    _moved_json(script.next_item(meeting, actor=user))


def console_start(user: User, meeting: Meeting, content: dict[str, Any]) -> None:
    try:
        item = AgendaItem.objects.select_related("meeting").get(
            pk=int(content.get("item") or 0), meeting=meeting)
    except (AgendaItem.DoesNotExist, ValueError, TypeError):
        raise InvalidInput({"item": [_("This item is not in the script.")]}) from None
    _moved_json(script.start_item(item, actor=user))


def console_panel(user: User | None, meeting: Meeting) -> Panel | None:
    return Panel(template="proceedings/_console_panel.html", script="proceedings/script.js",
                 context={"script_url": reverse("proceedings:script", args=[meeting.pk])})


def room_panel(user: User | None, meeting: Meeting) -> Panel | None:
    if not active_rulebook().script.shown_to_participants:
        return None
    return Panel(template="proceedings/_room_panel.html", script="proceedings/room.js")
