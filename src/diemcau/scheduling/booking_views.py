"""Pages that keep a booking from being a dead end (R7, R9, R12): the operator's refusal with
a usual reason and another time to propose, the decision on a whole series with its
exceptions, and the printable invitation (giấy mời) of a registration.

Like `views`, these find meetings through the scoped queryset and change nothing themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from diemcau.core.permissions import Action
from diemcau.ui.service_calls import call_service

from .choices import MeetingStatus
from .forms import RefuseForm, SeriesDecisionForm
from .models import Meeting, MeetingSeries
from .permissions import meetings_visible_to
from .services import lifecycle, series
from .views import _meeting, _next_url, _require, _step_page, _user


@login_required
def meeting_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    """Refuse with a usual reason (or the operator's own words) and, if the operator wishes,
    another time the host can take by copying the meeting."""
    user = _user(request)
    meeting = _meeting(user, pk)
    _require(user, Action.DECIDE_MEETING)
    form = RefuseForm(request.POST if request.method == "POST" else None)
    return _step_page(
        request,
        meeting,
        form=form,
        run=lambda: lifecycle.refuse_meeting(
            meeting, reason=form.full_reason(), actor=user, proposed=form.proposal()
        ),
        title=_("Refuse the registration"),
        submit_label=_("Refuse"),
        success=_("The registration was refused; the host is told the reason."),
        button_class="btn-danger",
    )


@login_required
def series_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A weekly or monthly series decided at once: all its waiting meetings accepted but the
    exceptions ticked, which are refused with one reason."""
    user = _user(request)
    _require(user, Action.DECIDE_MEETING)
    visible = meetings_visible_to(user)
    chosen = get_object_or_404(MeetingSeries.objects.filter(
        pk__in=visible.values("series_id")), pk=pk)
    pending = [m for m in series.waiting(chosen) if visible.filter(pk=m.pk).exists()]
    form = SeriesDecisionForm(request.POST if request.method == "POST" else None,
                              meetings=pending)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: series.decide_series(
            chosen, exceptions=form.exception_ids(), reason=form.full_reason(), actor=user))
        if outcome.ok and outcome.value is not None:
            decision = outcome.value
            messages.success(request, _(
                "The series was decided: %(accepted)s accepted, %(refused)s refused.")
                % {"accepted": len(decision.accepted), "refused": len(decision.refused)})
            return redirect(_next_url(request, reverse("scheduling:operator_queue")))
    first = pending[0] if pending else None
    return render(request, "scheduling/series_decide.html", {
        "series": chosen,
        "pending": pending,
        "first": first,
        "form": form,
        "decided": chosen.meetings.exclude(status=MeetingStatus.SUBMITTED).order_by(
            "starts_at"),
    })


# ---------------------------------------------------------------- the invitation (giấy mời)


def _vietnamese_date(day: dt.date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def invitation_context(meeting: Meeting) -> dict[str, Any]:
    """What the administrative invitation says: who invites whom, when, where and how."""
    participants = list(meeting.participants.exclude(pk=meeting.host_endpoint_id)
                        .select_related("agency").order_by("agency__path", "name"))
    invited: list[str] = []
    for endpoint in participants:
        if endpoint.agency.name not in invited:
            invited.append(endpoint.agency.name)
    host = meeting.host_agency
    local_start = timezone.localtime(meeting.starts_at)
    rehearsal = (timezone.localtime(meeting.rehearsal_starts_at)
                 if meeting.rehearsal_starts_at else None)
    return {
        "meeting": meeting,
        "host": host,
        "host_parent": host.parent.name if host.parent_id and host.parent else "",
        "invited": invited,
        "participants": participants,
        "issued_on": _vietnamese_date(timezone.localdate()),
        "start": local_start,
        "start_day": _vietnamese_date(local_start.date()),
        "end": timezone.localtime(meeting.ends_at),
        "rehearsal": rehearsal,
        "rehearsal_day": _vietnamese_date(rehearsal.date()) if rehearsal else "",
    }


@login_required
def meeting_invitation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The registration as a printable invitation (giấy mời) in the administrative layout of
    Nghị định 30/2020/NĐ-CP, for the host to sign, stamp and send (the signed scan is then
    attached to the registration). `?format=html` shows the same page to print from the
    browser."""
    user = _user(request)
    meeting = _meeting(user, pk)
    with translation.override("vi"):  # an administrative document: Vietnamese, always
        html = render_to_string("scheduling/invitation.html", invitation_context(meeting),
                                request=request)
    if request.GET.get("format") == "html":
        return HttpResponse(html)
    try:
        from weasyprint import HTML
    except ImportError as missing:  # pragma: no cover - WeasyPrint is a dependency
        raise Http404(_("PDF output is not installed on this server.")) from missing
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="giay-moi-{meeting.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
