"""Pages of meetings (R7–R15): the list, the meeting page, registration with a live panel of
what the rules allow, the operator's queue and decisions, technical checks and incidents.

Views find meetings only through the scoped queryset (out of scope is 404), offer only the
buttons the user `can` use, and change nothing themselves: every change is a service call,
whose refusals `call_service` shows on the form with the article they cite.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from diemcau.core import calendar
from diemcau.core.models import User
from diemcau.core.permissions import Action, can, denial_message, denied
from diemcau.core.text import text_search
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.permissions import agencies_user_can
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.ui.pagination import paginate
from diemcau.ui.service_calls import call_service, no_store

from . import meeting_page, planning, selectors
from .choices import (
    CheckStatus,
    IncidentStatus,
    MeetingStatus,
    RefusalReason,
    check_item_label,
)
from .forms import (
    CheckForm,
    ConfirmForm,
    IncidentReportForm,
    IncidentUpdateForm,
    MeetingFilterForm,
    MeetingForm,
    ReasonForm,
)
from .models import Incident, Meeting, TechnicalCheck
from .permissions import (
    can_manage_meeting,
    can_see_code,
    incidents_visible_to,
    meetings_visible_to,
)
from .presenters import (
    history,
    ids_of,
    readiness,
    registration_channels,
    reply_state,
    rules_panel_context,
)
from .reasons import reason_text
from .rules import (
    incident_refusal,
    incident_update_refusal,
    is_announced,
    may_manage_incidents,
    may_report_incident,
    overdue_count,
    refuse_refusal,
)
from .services import approval, checks, lifecycle, registration

MEETINGS_PER_PAGE = 25
CANCELLABLE = (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED, MeetingStatus.ACCEPTED)
COPYABLE = (MeetingStatus.REFUSED, MeetingStatus.CANCELLED, MeetingStatus.REVOKED,
            MeetingStatus.ENDED)

# ---------------------------------------------------------------- helpers


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _require(user: User, action: Action, agency: Agency | None = None) -> None:
    if not can(user, action, agency):
        raise Forbidden(str(denied(action)) if agency is not None else denial_message(action))


def _meeting(user: User, pk: int) -> Meeting:
    related = ("host_agency", "host_endpoint__agency", "node", "series", "created_by")
    return get_object_or_404(meetings_visible_to(user).select_related(*related), pk=pk)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime(calendar.DISPLAY_FORMAT)


# ---------------------------------------------------------------- list


def _filter(meetings: QuerySet[Meeting], data: dict[str, Any]) -> QuerySet[Meeting]:
    for name in ("status", "urgency"):
        if data.get(name):
            meetings = meetings.filter(**{name: data[name]})
    if data.get("host"):
        meetings = meetings.filter(host_agency=data["host"])
    zone = timezone.get_current_timezone()
    if data.get("date_from"):
        meetings = meetings.filter(
            ends_at__gte=dt.datetime.combine(data["date_from"], dt.time.min, tzinfo=zone)
        )
    if data.get("date_to"):
        day_after = data["date_to"] + dt.timedelta(days=1)
        meetings = meetings.filter(
            starts_at__lt=dt.datetime.combine(day_after, dt.time.min, tzinfo=zone)
        )
    text = (data.get("q") or "").strip()
    if text:
        meetings = meetings.filter(text_search(text, "title", "place", "host_agency__name"))
    return meetings


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    visible = meetings_visible_to(user)
    hosts = Agency.objects.filter(pk__in=visible.values("host_agency"))
    form = MeetingFilterForm(request.GET or None, hosts=hosts)
    meetings: QuerySet[Meeting] = visible.select_related("host_agency", "host_endpoint").annotate(
        participant_count=Count("participants")
    )
    period = "upcoming"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        meetings = _filter(meetings, data)
        dated = bool(data.get("date_from") or data.get("date_to"))
        period = data.get("period") or ("all" if dated else "upcoming")
    elif form.is_bound:
        meetings = meetings.none()
    now = timezone.now()
    if period == "upcoming":
        meetings = meetings.filter(ends_at__gte=now).order_by("starts_at", "pk")
    elif period == "past":
        meetings = meetings.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    else:
        meetings = meetings.order_by("-starts_at", "-pk")
    page = paginate(request, meetings, MEETINGS_PER_PAGE)
    # A meeting on now has its way in ("Vào họp"), from the live plane (meeting_page).
    meeting_page.attach_live_entries(user, page["page_obj"])
    return render(
        request,
        "scheduling/meeting_list.html",
        {
            "filter_form": form,
            "period": period,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            "may_register": agencies_user_can(user, Action.REGISTER_MEETING).exists(),
            **page,
        },
    )


# ---------------------------------------------------------------- detail


def _reportable_endpoints(user: User, meeting: Meeting, endpoints: list[Endpoint]
                          ) -> list[Endpoint]:
    return [e for e in endpoints if may_report_incident(user, meeting, e)]


def _detail_actions(user: User, meeting: Meeting, endpoints: list[Endpoint]) -> dict[str, bool]:
    manage = can_manage_meeting(user, meeting)
    status = meeting.status
    may_report = bool(_reportable_endpoints(user, meeting, endpoints)) or may_report_incident(
        user, meeting
    )
    return {
        "edit": manage and registration.edit_refusal(meeting) is None,
        # A refused, cancelled or revoked meeting is never a dead end: copy it (booking_views).
        "copy": manage and status in COPYABLE,
        "submit": manage and status == MeetingStatus.DRAFT,
        "cancel": manage and status in CANCELLABLE,
        "decide": can(user, Action.DECIDE_MEETING) and status == MeetingStatus.SUBMITTED,
        # ĐN Đ10.1, KH Đ12.1: an announced meeting is prepared for, never refused.
        "refuse": (can(user, Action.DECIDE_MEETING) and status == MeetingStatus.SUBMITTED
                   and refuse_refusal(meeting) is None),
        "report": may_report and incident_refusal(meeting) is None,
        "manage_incidents": may_manage_incidents(user),
    }


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    rulebook = active_rulebook()
    meeting = _meeting(user, pk)
    participants = list(
        meeting.participants.exclude(pk=meeting.host_endpoint_id)
        .select_related("agency")
        .order_by("agency__path", "name")
    )
    endpoints = [meeting.host_endpoint, *participants]
    show_code = can_see_code(user, meeting)
    check_kinds, readiness_rows = readiness(user, meeting, endpoints)
    checked = [c for row in readiness_rows for c in row.cells if c.check is not None]
    actions = _detail_actions(user, meeting, endpoints)
    response = render(
        request,
        "scheduling/meeting_detail.html",
        {
            "meeting": meeting,
            "participants": participants,
            "endpoint_count": len(endpoints),
            "show_code": show_code,
            "code_article": rulebook.cite(rulebook.priority.article),
            "credentials_article": rulebook.cite(rulebook.secrecy.credentials_article),
            "history": history(meeting),
            "check_kinds": check_kinds,
            "readiness_rows": readiness_rows,
            "ready_count": sum(1 for c in checked if c.colour == "success"),
            "check_count": len(checked),
            "check_article": rulebook.cite(rulebook.technical_check.article),
            "incidents": [
                (incident, actions["manage_incidents"]
                 and incident_update_refusal(incident) is None)
                for incident in meeting.incidents.select_related("endpoint", "opened_by")
            ],
            "actions": actions,
            "any_action": any(v for k, v in actions.items() if k != "manage_incidents"),
            "reply": reply_state(meeting, rulebook),
            "is_revocation_victim": meeting.status == MeetingStatus.REVOKED,
            "decision_reason": reason_text(meeting),
            "priority_article": rulebook.cite(rulebook.priority.article),
            **meeting_page.page_context(user, meeting),
        },
    )
    return no_store(response) if show_code else response


@login_required
def meeting_invitation(request: HttpRequest, pk: int) -> FileResponse:
    """The invitation letter, only for those who see the meeting (never through MEDIA_URL)."""
    meeting = _meeting(_user(request), pk)
    if not meeting.invitation:
        raise Http404(_("This meeting has no invitation letter."))
    try:
        handle = meeting.invitation.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("The invitation letter file is missing.")) from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"giay-moi-phien-hop-{meeting.pk}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- registration


@login_required
@require_GET
def rules_panel(request: HttpRequest) -> HttpResponse:
    """htmx fragment of the registration form (see _rules_panel.html)."""
    user = _user(request)
    _require(user, Action.REGISTER_MEETING)
    values: dict[str, Any] = {key: request.GET.get(key) for key in request.GET}
    values["participants"] = request.GET.getlist("participants")
    meeting_pk = request.GET.get("meeting", "")
    exclude = None
    if meeting_pk.isdigit() and meetings_visible_to(user).filter(pk=meeting_pk).exists():
        exclude = int(meeting_pk)
    context = rules_panel_context(user, values, exclude)
    return render(request, "scheduling/_rules_panel.html", {**context, "panel_in_form": True})


# Form fields that are not plain attributes of a meeting.
NOT_COPIED = {"invitation", "recurrence", "until", "host_agency", "host_endpoint", "participants"}


def _form_initial(
    user: User, meeting: Meeting | None, agencies: QuerySet[Agency]
) -> dict[str, Any]:
    initial: dict[str, Any]
    if meeting is not None:
        initial = {
            name: getattr(meeting, name)
            for name in MeetingForm.base_fields
            if name not in NOT_COPIED
        }
        initial["host_agency"] = meeting.host_agency_id
        initial["host_endpoint"] = meeting.host_endpoint_id
        initial["participants"] = list(meeting.participants.values_list("pk", flat=True))
        return initial
    initial = {
        "contact_name": user.get_full_name(),
        "contact_phone": user.phone,
    }
    if user.agency_id and agencies.filter(pk=user.agency_id).exists():
        initial["host_agency"] = user.agency_id
    elif agencies.count() == 1:
        initial["host_agency"] = agencies.get().pk
    if "host_agency" in initial:
        own = Endpoint.objects.filter(
            agency_id=initial["host_agency"], status=EndpointStatus.APPROVED
        )
        if own.count() == 1:
            initial["host_endpoint"] = own.get().pk
    return initial


def _save_meeting(user: User, form: MeetingForm, meeting: Meeting | None, submit: bool) -> Meeting:
    data = form.to_input()
    if meeting is None:
        recurrence = form.cleaned_data.get("recurrence")
        if recurrence:
            series = registration.create_series(
                data, recurrence=recurrence, until=form.cleaned_data["until"], actor=user
            )
            first = series.meetings.order_by("starts_at").first()
            assert first is not None
            return first
        return registration.create_meeting(data, actor=user, submit=submit)
    # Saving and submitting a draft stand or fall together; a submitted one stays submitted.
    with transaction.atomic():
        meeting = registration.update_meeting(meeting, data, actor=user)
        if submit and meeting.status == MeetingStatus.DRAFT:
            return lifecycle.submit_meeting(meeting, actor=user)
        return meeting


def _copy_initial(source: Meeting) -> dict[str, Any]:
    """A new registration from an old one: everything but the letter; the times proposed with
    its refusal when there are, else its own (the rules panel says whether they still fit)."""
    initial = {name: getattr(source, name) for name in MeetingForm.base_fields
               if name not in NOT_COPIED}
    initial["host_agency"] = source.host_agency_id
    initial["host_endpoint"] = source.host_endpoint_id
    initial["participants"] = list(source.participants.values_list("pk", flat=True))
    if source.proposed_starts_at and source.proposed_ends_at:
        shift = source.proposed_starts_at - source.starts_at
        initial["starts_at"], initial["ends_at"] = (source.proposed_starts_at,
                                                    source.proposed_ends_at)
        if source.rehearsal_starts_at and source.rehearsal_ends_at:
            initial["rehearsal_starts_at"] = source.rehearsal_starts_at + shift
            initial["rehearsal_ends_at"] = source.rehearsal_ends_at + shift
    return initial


def _saved_message(meeting: Meeting) -> str:
    if meeting.series_id:
        count = Meeting.objects.filter(series_id=meeting.series_id).count()
        return _("%(count)s meetings of the series were sent; each is decided on its own.") % {
            "count": count
        }
    if meeting.status == MeetingStatus.DRAFT:
        return _("The draft was saved. Submit it when it is complete.")

    assert meeting.reply_due_at is not None
    return _("The registration was sent. The operator answers by %(due)s.") % {
        "due": _local(meeting.reply_due_at)
    }


def _meeting_form_page(request: HttpRequest, meeting: Meeting | None,
                       copy_of: Meeting | None = None) -> HttpResponse:
    user = _user(request)
    rulebook = active_rulebook()
    agencies = agencies_user_can(user, Action.REGISTER_MEETING)
    if not agencies.exists():
        raise Forbidden(denial_message(Action.REGISTER_MEETING))
    approved = Endpoint.objects.filter(status=EndpointStatus.APPROVED)
    post = request.method == "POST"
    form = MeetingForm(
        request.POST if post else None,
        request.FILES if post else None,
        initial=(_copy_initial(copy_of) if copy_of is not None
                 else _form_initial(user, meeting, agencies)),
        agencies=agencies,
        host_endpoints=approved.filter(agency__in=agencies),
        participants=approved,
        rulebook=rulebook,
        allow_series=meeting is None,
    )
    if post and form.is_valid():
        submit = request.POST.get("action") != "draft"
        if form.cleaned_data.get("recurrence") and not submit:
            form.add_error(
                "recurrence",
                _("A repeating meeting is submitted at once; it cannot be kept as a draft."),
            )
        else:
            outcome = call_service(
                request, form, lambda: _save_meeting(user, form, meeting, submit)
            )
            if outcome.ok and outcome.value is not None:
                saved = outcome.value
                if meeting is not None and meeting.status == MeetingStatus.SUBMITTED:
                    assert saved.reply_due_at is not None
                    messages.success(request, _(
                        "The changes were sent to the operator; the reply clock restarted: "
                        "the operator answers by %(due)s.") % {"due": _local(saved.reply_due_at)})
                else:
                    messages.success(request, _saved_message(saved))
                return redirect("scheduling:meeting_detail", pk=saved.pk)
    values = {
        name: form[name].value()
        for name in ("urgency", "starts_at", "ends_at", "host_endpoint", "participants")
    }
    if form.has_rehearsal:
        values.update({n: form[n].value() for n in ("rehearsal_starts_at", "rehearsal_ends_at")})
    panel_url = reverse("scheduling:rules_panel") + (f"?meeting={meeting.pk}" if meeting else "")
    return render(
        request,
        "scheduling/meeting_form.html",
        {
            "form": form,
            "meeting": meeting,
            "copy_of": copy_of,
            "panel_url": panel_url,
            "panel_in_form": True,
            **rules_panel_context(user, values, meeting.pk if meeting else None),
            "registration_article": rulebook.cite(rulebook.registration.article),
            "registration_channels": registration_channels(rulebook),
            "channels_article": rulebook.cite(rulebook.registration.channels_article
                                              or rulebook.registration.article),
            "lead_times_article": rulebook.cite(rulebook.lead_times.article),
            "reply_article": rulebook.cite(rulebook.reply_sla.article),
            "secrecy_article": rulebook.cite(rulebook.secrecy.article),
            "rehearsal_article": rulebook.cite(rulebook.rehearsal.article),
        },
    )


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    """A new registration; `?copy=<id>` starts from a meeting the user may manage."""
    copy_of = None
    source = request.GET.get("copy", "")
    if source.isdigit():
        copy_of = _meeting(_user(request), int(source))
        if not can_manage_meeting(_user(request), copy_of):
            raise Forbidden(denial_message(Action.REGISTER_MEETING))
    return _meeting_form_page(request, None, copy_of)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = _meeting(user, pk)
    if not can_manage_meeting(user, meeting):
        raise Forbidden(denial_message(Action.REGISTER_MEETING))
    refusal = registration.edit_refusal(meeting)
    if refusal is not None:
        messages.info(request, str(refusal))
        return redirect("scheduling:meeting_detail", pk=meeting.pk)
    return _meeting_form_page(request, meeting)


def _step_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    form: forms.Form,
    run: Any,
    title: str,
    submit_label: str,
    success: Any,
    button_class: str = "btn-primary",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """One decision on one meeting: a small form, the service, then back."""
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, run)
        if outcome.ok:
            messages.success(request, success(outcome.value) if callable(success) else success)
            default = reverse("scheduling:meeting_detail", args=[meeting.pk])
            return redirect(_next_url(request, default))
    return render(
        request,
        "scheduling/meeting_step.html",
        {
            "meeting": meeting,
            "form": form,
            "title": title,
            "submit_label": submit_label,
            "button_class": button_class,
            "next": _next_url(request, ""),
            **(extra or {}),
        },
    )


@login_required
def meeting_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = _meeting(user, pk)
    if not can_manage_meeting(user, meeting):
        raise Forbidden(denial_message(Action.REGISTER_MEETING))
    values = {
        "urgency": meeting.urgency,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "rehearsal_starts_at": meeting.rehearsal_starts_at,
        "rehearsal_ends_at": meeting.rehearsal_ends_at,
        "host_endpoint": meeting.host_endpoint_id,
        "participants": list(meeting.participants.values_list("pk", flat=True)),
    }
    return _step_page(
        request,
        meeting,
        form=ConfirmForm(request.POST if request.method == "POST" else None),
        run=lambda: lifecycle.submit_meeting(meeting, actor=user),
        title=_("Submit the registration"),
        submit_label=_("Submit to the operator"),
        success=_saved_message,
        extra={**rules_panel_context(user, values, meeting.pk), "show_panel": True},
    )


@login_required
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = _meeting(user, pk)
    if not can_manage_meeting(user, meeting):
        raise Forbidden(denial_message(Action.REGISTER_MEETING))
    form = ReasonForm(request.POST if request.method == "POST" else None)
    return _step_page(
        request,
        meeting,
        form=form,
        run=lambda: lifecycle.cancel_meeting(
            meeting, reason=form.cleaned_data["reason"], actor=user
        ),
        title=_("Cancel the meeting"),
        submit_label=_("Cancel the meeting"),
        success=_("The meeting was cancelled; the endpoints and the MCU were released."),
        button_class="btn-danger",
    )


# ---------------------------------------------------------------- operator


def _announced_article(meeting: Meeting, rulebook: Rulebook) -> str:
    refusal = refuse_refusal(meeting) if is_announced(meeting, rulebook) else None
    return refusal.article if refusal is not None else ""


@dataclass
class QueueRow:
    meeting: Meeting
    plan: planning.Plan
    endpoint_count: int
    reply: dict[str, Any] | None
    amended_at: dt.datetime | None = None  # edited after submission: the clock restarted
    series_waiting: int = 0  # waiting meetings of its series, to decide together
    announced: str = ""  # announced by its office (ĐN Đ10.1, KH Đ12.1): the article; no refusal


@login_required
def operator_queue(request: HttpRequest) -> HttpResponse:
    """Pending registrations, emergencies first, then by reply deadline (R9, ĐN Đ10.3,
    KH Đ12.3), each with a countdown and what accepting it would take (R11, R12)."""
    user = _user(request)
    _require(user, Action.DECIDE_MEETING)
    rulebook = active_rulebook()
    pending = selectors.operator_queue(meetings_visible_to(user))
    amended = selectors.amended_at([m.pk for m in pending])
    series_counts = Counter(m.series_id for m in pending if m.series_id)
    rows = [
        QueueRow(m, planning.plan(m, rulebook), planning.endpoint_count(m),
                 reply_state(m, rulebook), amended.get(m.pk),
                 series_counts[m.series_id] if m.series_id else 0,
                 _announced_article(m, rulebook))
        for m in pending
    ]
    context: dict[str, Any] = {
        "rows": rows,
        "refusal_reasons": [("", _("Another reason (write it below)")),
                            *RefusalReason.choices],
        "overdue_count": overdue_count(row.meeting for row in rows),
        "reply_article": rulebook.cite(rulebook.reply_sla.article),
        "capacity_article": rulebook.cite(rulebook.capacity.article),
        "priority_article": rulebook.cite(rulebook.priority.article),
        "may_manage_incidents": may_manage_incidents(user),
    }
    if context["may_manage_incidents"]:
        incidents = list(
            incidents_visible_to(user)
            .exclude(status=IncidentStatus.CLOSED)
            .select_related("meeting", "endpoint", "opened_by")
            .order_by("opened_at")
        )
        context["incidents"] = [
            (i, IncidentUpdateForm(initial={"status": i.status}, auto_id=f"id_incident{i.pk}_%s"))
            for i in incidents
        ]
    return render(request, "scheduling/operator_queue.html", context)


@login_required
@require_GET
def queue_count(request: HttpRequest) -> HttpResponse:
    """htmx fragment for the navigation bar: how many registrations wait, how many late."""
    user = _user(request)
    if not can(user, Action.DECIDE_MEETING):
        return HttpResponse("")
    pending = meetings_visible_to(user).filter(status=MeetingStatus.SUBMITTED)
    return render(
        request,
        "scheduling/_queue_count.html",
        {
            "count": pending.count(),
            "overdue": overdue_count(pending),
        },
    )


@login_required
def meeting_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept: one click when nothing must give way; otherwise this page lists the
    lower-level meetings that would lose their code, latest registered first (KH Đ12.4b),
    and the operator confirms exactly those."""
    user = _user(request)
    rulebook = active_rulebook()
    meeting = _meeting(user, pk)
    _require(user, Action.DECIDE_MEETING)
    if meeting.status != MeetingStatus.SUBMITTED:
        messages.info(request, _("Only a submitted meeting can be accepted."))
        return redirect("scheduling:meeting_detail", pk=meeting.pk)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        confirmed = ids_of(request.POST.getlist("confirm_revocations"))
        outcome = call_service(
            request,
            form,
            lambda: lifecycle.accept_meeting(meeting, actor=user, confirm_revocations=confirmed),
        )
        if outcome.ok and outcome.value is not None:
            accepted = outcome.value
            messages.success(
                request,
                _("“%(title)s” was accepted on %(node)s; the meeting code was issued.")
                % {"title": accepted.title, "node": accepted.node},
            )
            return redirect(_next_url(request, reverse("scheduling:operator_queue")))
    plan = planning.plan(meeting, rulebook)
    return render(
        request,
        "scheduling/meeting_accept.html",
        {
            "meeting": meeting,
            "form": form,
            "plan": plan,
            "revocations": [(m, planning.endpoint_count(m)) for m in plan.revocations],
            "endpoint_count": planning.endpoint_count(meeting),
            "priority_article": rulebook.cite(rulebook.priority.article),
            "capacity_article": rulebook.cite(rulebook.capacity.article),
            # KH Đ12.4a: which meetings and checks fill each node, and when
            "capacity_details": approval.capacity_details(plan.overflows, rulebook)
            if plan.full else "",
            "next": _next_url(request, ""),
        },
    )


# ---------------------------------------------------------------- checks and incidents


@login_required
def check_record(request: HttpRequest, pk: int, check_pk: int) -> HttpResponse:
    """An endpoint's technician records its checklist (ĐN Đ11.2b–c, KH Đ13.2b–c)."""
    user = _user(request)
    rulebook = active_rulebook()
    meeting = _meeting(user, pk)
    check = get_object_or_404(
        TechnicalCheck.objects.select_related("endpoint__agency"), meeting=meeting, pk=check_pk
    )
    _require(user, Action.RECORD_CHECK, check.endpoint.agency)
    items: list[str] = list(rulebook.technical_check.items)
    initial: dict[str, Any] = {
        f"item_{item}": "yes" if ready else "no" for item, ready in check.results.items()
    }
    initial["remarks"] = check.remarks
    form = CheckForm(
        request.POST if request.method == "POST" else None, items=items, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = checks.CheckInput(form.results(), form.cleaned_data["remarks"])
        outcome = call_service(request, form, lambda: checks.record_check(check, data, actor=user))
        if outcome.ok and outcome.value is not None:
            if outcome.value.status == CheckStatus.FAILED:
                messages.warning(
                    request,
                    _(
                        "Recorded as not ready. An incident was opened; the operator tracks it "
                        "to a fix."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Recorded: %(endpoint)s is ready.") % {"endpoint": check.endpoint.name},
                )
            return redirect(reverse("scheduling:meeting_detail", args=[meeting.pk]) + "#readiness")
    return render(
        request,
        "scheduling/check_form.html",
        {
            "meeting": meeting,
            "check": check,
            "form": form,
            "check_article": rulebook.cite(rulebook.technical_check.article),
            "item_labels": [check_item_label(i) for i in items],
        },
    )


@login_required
def incident_report(request: HttpRequest, pk: int) -> HttpResponse:
    """An endpoint reports a problem it cannot fix itself (ĐN Đ12.4c, KH Đ14.4c)."""
    user = _user(request)
    meeting = _meeting(user, pk)
    participants = list(
        meeting.participants.exclude(pk=meeting.host_endpoint_id)
        .select_related("agency")
        .order_by("name")
    )
    endpoints = _reportable_endpoints(user, meeting, [meeting.host_endpoint, *participants])
    whole = may_report_incident(user, meeting)
    if not endpoints and not whole:
        raise Forbidden(denial_message(Action.REPORT_INCIDENT))
    refusal = incident_refusal(meeting)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect("scheduling:meeting_detail", pk=meeting.pk)
    form = IncidentReportForm(
        request.POST if request.method == "POST" else None,
        endpoints=endpoints,
        whole_meeting=whole,
    )
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request,
            form,
            lambda: checks.report_incident(
                meeting,
                description=form.cleaned_data["description"],
                actor=user,
                endpoint_id=form.endpoint_id(),
            ),
        )
        if outcome.ok:
            messages.success(request, _("The incident was reported to the operator."))
            return redirect(reverse("scheduling:meeting_detail", args=[meeting.pk]) + "#incidents")
    return render(
        request,
        "scheduling/incident_form.html",
        {
            "meeting": meeting,
            "form": form,
            "title": _("Report an incident"),
            "submit_label": _("Report"),
        },
    )


@login_required
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator tracks an incident: being fixed, then closed with what was done."""
    user = _user(request)
    if not may_manage_incidents(user):
        raise Forbidden(denial_message(Action.MANAGE_INCIDENT))
    incident: Incident = get_object_or_404(
        incidents_visible_to(user).select_related("meeting", "endpoint"), pk=pk
    )
    form = IncidentUpdateForm(
        request.POST if request.method == "POST" else None,
        initial={"status": incident.status, "resolution": incident.resolution},
    )
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request,
            form,
            lambda: checks.update_incident(
                incident,
                status=form.cleaned_data["status"],
                resolution=form.cleaned_data["resolution"],
                actor=user,
            ),
        )
        if outcome.ok:
            messages.success(request, _("Incident #%(pk)s was updated.") % {"pk": incident.pk})
            default = reverse("scheduling:operator_queue") + "#incidents"
            return redirect(_next_url(request, default))
    return render(
        request,
        "scheduling/incident_form.html",
        {
            "meeting": incident.meeting,
            "incident": incident,
            "form": form,
            "title": _("Update incident #%(pk)s") % {"pk": incident.pk},
            "submit_label": _("Save"),
            "next": _next_url(request, ""),
        },
    )
