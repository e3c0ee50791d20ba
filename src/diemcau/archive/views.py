"""Pages of the archive (R19, R27): the archive console, one meeting's archive (recording,
handover, materials, access requests), the signed file links and the meeting page's panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from diemcau.core.models import User
from diemcau.scheduling.feeds import public_title
from diemcau.scheduling.meeting_page import MeetingPanel
from diemcau.scheduling.models import Meeting
from diemcau.ui.service_calls import call_service

from . import files, selectors
from .choices import AccessState, MaterialKind, RecordingState
from .models import AccessRequest, Material, Recording, RecordingTrack
from .permissions import (
    can_acknowledge,
    can_decide_requests,
    can_download,
    can_play,
    can_read_materials,
    can_request_access,
    can_see_record,
    can_upload_materials,
    catalogue_for,
    export_forbidden,
    is_custodian,
    materials_readable_by,
    recordings_visible_to,
    requests_decidable_by,
)
from .rules import handover_deadline
from .services import handover, materials, recordings
from .services.storage import usage


class MaterialForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=250)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=MaterialKind.choices)
    file = forms.FileField(label=gettext_lazy("File (PDF or office document)"))


class AccessRequestForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("What do you need the materials for?"),
                             widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecisionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for refusing"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _meeting_for(user: User, pk: int) -> Meeting:
    meeting = get_object_or_404(Meeting.objects.select_related("host_agency"), pk=pk)
    if not can_see_record(user, meeting) and not can_request_access(user, meeting):
        raise Http404
    return meeting


# ---------------------------------------------------------------- the console


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    custodian = is_custodian(user)
    records = (recordings_visible_to(user).select_related("meeting", "meeting__host_agency")
               .order_by("-created_at"))
    context: dict[str, Any] = {
        "is_custodian": custodian,
        "recordings": [selectors.line(record, user) for record in records[:100]],
        "requests": list(requests_decidable_by(user).filter(state=AccessState.PENDING)
                         .select_related("meeting", "requester", "agency")[:50]),
        "catalogue": list(catalogue_for(user).exclude(pk__in=records.values("meeting"))
                          .select_related("host_agency").order_by("-starts_at")[:50]),
    }
    if custodian:
        context["usage"] = usage()
        context["handover"] = selectors.handover_summary(records)
    return render(request, "archive/index.html", context)


# ---------------------------------------------------------------- one meeting


@login_required
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = _meeting_for(user, pk)
    record = Recording.objects.filter(meeting=found).first()
    sees_record = can_see_record(user, found)
    context: dict[str, Any] = {
        "meeting": found,
        "title": public_title(found) if not sees_record else found.title,
        "sees_record": sees_record,
        "record": record if sees_record else None,
        "line": selectors.line(record, user) if record and sees_record else None,
        "may_play": bool(record and can_play(user, record)),
        "may_download": bool(record and can_download(user, record)),
        "export_forbidden": export_forbidden(found),
        "may_acknowledge": bool(record and can_acknowledge(user, record)),
        "is_custodian": is_custodian(user),
        "materials": list(materials_readable_by(user, found)),
        "may_read_materials": can_read_materials(user, found),
        "may_upload": can_upload_materials(user, found),
        "may_request": can_request_access(user, found),
        "may_decide": can_decide_requests(user, found),
        "material_form": MaterialForm(),
        "request_form": AccessRequestForm(),
        "decision_form": DecisionForm(),
        "states": RecordingState,
    }
    if record and sees_record:
        context["tracks"] = list(record.tracks.exclude(kind="raw").filter(purged_at__isnull=True))
        context["deadline"] = handover_deadline(record)
        if context["may_play"]:
            context["play_token"] = handover.issue_link(user, record, attachment=False)
    if context["may_decide"] or is_custodian(user):
        context["requests"] = list(found.access_requests.select_related("requester", "agency"))
    else:
        context["requests"] = list(found.access_requests.filter(requester=user))
    return render(request, "archive/meeting.html", context)


@login_required
@require_GET
def status(request: HttpRequest, pk: int) -> JsonResponse:
    """The recording's state and progress, polled by the page while it processes."""
    user = _user(request)
    found = _meeting_for(user, pk)
    record = Recording.objects.filter(meeting=found).first()
    if record is None or not can_see_record(user, found):
        raise Http404
    return JsonResponse(selectors.status_json(record))


@login_required
@require_GET
def thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    record = get_object_or_404(Recording.objects.select_related("meeting"), meeting_id=pk)
    if not can_play(user, record) or not record.thumbnail_name or record.purged_at:
        raise Http404
    return files.serve(request, record.thumbnail_name, content_type="image/jpeg",
                       filename="thumbnail.jpg", attachment=False)


def _back(pk: int) -> HttpResponse:
    return redirect("archive:meeting", pk=pk)


@login_required
@require_POST
def download(request: HttpRequest, kind: str, object_id: int) -> HttpResponse:
    """Issue a signed download link (audited) and follow it."""
    user = _user(request)
    model = {"recording": Recording, "track": RecordingTrack, "material": Material}.get(kind)
    if model is None:
        raise Http404
    obj = get_object_or_404(model, pk=object_id)
    assert isinstance(obj, Recording | RecordingTrack | Material)
    try:
        token = handover.issue_link(user, obj)
    except Exception as exc:  # noqa: BLE001 - shown as a refusal
        from diemcau.core.errors import PermissionDenied

        if isinstance(exc, PermissionDenied):
            raise Forbidden(str(exc)) from exc
        raise
    return redirect("archive:file", token=token)


@login_required
@require_GET
def file(request: HttpRequest, token: str) -> HttpResponseBase:
    """A signed link: the file, when the link is valid, this person's, and still allowed.
    The first request of a download (no range, or one from byte 0) is audited."""
    user = _user(request)
    try:
        link, obj = handover.open_link(token, user)
    except handover.LinkInvalid as exc:
        return render(request, "archive/link_invalid.html", {"reason": str(exc)}, status=403)
    wanted = request.headers.get("Range", "")
    if not wanted or wanted.replace(" ", "").startswith("bytes=0-"):
        handover.record_download(user, link, obj, client=request.META.get("REMOTE_ADDR", ""),
                                 byte_range=wanted)
    if isinstance(obj, Recording):
        return files.serve(request, obj.file_name, content_type="video/mp4",
                           filename=f"meeting-{obj.meeting_id}.mp4",
                           attachment=link.attachment)
    if isinstance(obj, RecordingTrack):
        name = obj.file_name.rsplit("/", 1)[-1]
        kind = "audio/ogg" if name.endswith(".opus") else "video/webm"
        return files.serve(request, obj.file_name, content_type=kind, filename=name,
                           attachment=True)
    assert isinstance(obj, Material)
    return files.serve(request, obj.file_name, content_type=obj.content_type,
                       filename=obj.original_name, attachment=link.attachment)


# ---------------------------------------------------------------- actions


def _recording_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _user(request)
    record = get_object_or_404(Recording.objects.select_related("meeting"), meeting_id=pk)
    if not can_see_record(user, record.meeting):
        raise Http404
    calls = {
        "hand_over": lambda: handover.hand_over(record, actor=user),
        "acknowledge": lambda: handover.acknowledge_receipt(record, actor=user),
        "retry": lambda: recordings.retry(record, actor=user),
        "purge": lambda: handover.purge(record, actor=user, reason="operator"),
    }
    done = {
        "hand_over": _("The recording was handed over to the host agency."),
        "acknowledge": _("Receipt acknowledged."),
        "retry": _("The recording will be processed again."),
        "purge": _("The recording's files were deleted; its record stays."),
    }
    outcome = call_service(request, forms.Form(), calls[action])
    if outcome.ok:
        messages.success(request, done[action])
    return _back(pk)


@login_required
@require_POST
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    return _recording_action(request, pk, "hand_over")


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _recording_action(request, pk, "acknowledge")


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _recording_action(request, pk, "retry")


@login_required
@require_POST
def purge(request: HttpRequest, pk: int) -> HttpResponse:
    return _recording_action(request, pk, "purge")


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = _meeting_for(user, pk)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        outcome = call_service(request, form, lambda: materials.upload_material(
            found, actor=user, title=form.cleaned_data["title"],
            kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]))
        if outcome.ok:
            messages.success(request, _("The document was added to the meeting."))
    _form_errors(request, form)
    return _back(pk)


@login_required
@require_POST
def remove_material(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    material = get_object_or_404(Material, pk=pk)
    outcome = call_service(request, forms.Form(),
                           lambda: materials.remove_material(material, actor=user))
    if outcome.ok:
        messages.success(request, _("The document was removed."))
    return _back(material.meeting_id)


@login_required
@require_POST
def request_access(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = _meeting_for(user, pk)
    form = AccessRequestForm(request.POST)
    if form.is_valid():
        outcome = call_service(request, form, lambda: materials.request_access(
            found, actor=user, reason=form.cleaned_data["reason"]))
        if outcome.ok:
            messages.success(request, _("Your request was sent to the host."))
    _form_errors(request, form)
    return _back(pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access = get_object_or_404(AccessRequest.objects.select_related("meeting"), pk=pk)
    if not can_see_record(user, access.meeting):
        raise Http404
    form = DecisionForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    if form.is_valid():
        outcome = call_service(request, form, lambda: materials.decide_access(
            access, actor=user, approve=approve, reason=form.cleaned_data["reason"]))
        if outcome.ok:
            messages.success(request, _("The request was approved.") if approve
                             else _("The request was refused."))
    _form_errors(request, form)
    return _back(access.meeting_id)


# ---------------------------------------------------------------- the meeting page


def meeting_panel(user: User, meeting: Meeting) -> MeetingPanel | None:
    """The recording's state and the archive's link on the meeting page (registered in
    `apps.py`)."""
    record = Recording.objects.filter(meeting=meeting).first()
    has_materials = Material.objects.filter(meeting=meeting, removed_at__isnull=True).exists()
    if record is None and not has_materials and not can_upload_materials(user, meeting):
        return None
    return MeetingPanel(
        section_template="archive/_meeting_panel.html",
        context={"archive_record": selectors.line(record, user) if record else None,
                 "archive_url": reverse("archive:meeting", args=[meeting.pk]),
                 "archive_materials": has_materials},
    )
