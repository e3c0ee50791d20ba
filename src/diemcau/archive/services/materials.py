"""The meeting's materials (R27): the host uploads them and the participants read them
(ĐN Đ5.3, KH Đ5.3); anyone else asks the host, who approves or refuses with a reason
(ĐN Đ13.4, KH Đ15.4). A state-secret meeting shares nothing beyond its participants (R20;
ĐN Đ13.4 says so of its own materials)."""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.feeds import is_state_secret
from diemcau.scheduling.models import Meeting

from .. import notices
from ..choices import AccessState, MaterialKind
from ..models import AccessRequest, Material
from ..permissions import (
    can_decide_requests,
    can_request_access,
    can_upload_materials,
    has_approved_request,
    is_custodian,
    is_host_side,
    is_participant_side,
)
from .storage import delete, put

# PDF and office documents (agenda, reports, slides).
ALLOWED_EXTENSIONS = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt",
                      ".ods", ".odp", ".rtf", ".txt"}
MATERIAL_FIELDS = ["title", "kind", "original_name", "size_bytes", "sha256", "removed_at"]
REQUEST_FIELDS = ["state", "reason", "refusal_reason", "decided_at"]


def upload_material(meeting: Meeting, *, actor: User, title: str, upload: UploadedFile,
                    kind: str = MaterialKind.OTHER) -> Material:
    if not can_upload_materials(actor, meeting):
        rulebook = active_rulebook()
        raise RuleViolation(
            code="materials_host_only", article=rulebook.cite(rulebook.materials.article),
            message=_("Only the host agency keeps and uploads the meeting's materials."))
    original = PurePath(upload.name or "").name
    extension = PurePath(original).suffix.lower()
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the document a title.")]
    if kind not in MaterialKind.values:
        errors["kind"] = [_("Choose a kind of document.")]
    if extension not in ALLOWED_EXTENSIONS:
        errors["file"] = [_("Upload a PDF or an office document (%(kinds)s).")
                          % {"kinds": ", ".join(sorted(ALLOWED_EXTENSIONS))}]
    elif upload.size is not None and upload.size > settings.ARCHIVE_MAX_UPLOAD_BYTES:
        errors["file"] = [_("The file is larger than %(mb)s MB.")
                          % {"mb": settings.ARCHIVE_MAX_UPLOAD_BYTES // 1024**2}]
    if errors:
        raise InvalidInput(errors)
    safe = get_valid_filename(original) or f"document{extension}"
    name = f"materials/{meeting.pk}/{uuid.uuid4().hex[:12]}-{safe}"
    stored, size, digest = put(name, upload.file)  # type: ignore[arg-type]
    try:
        with transaction.atomic():
            material = Material.objects.create(
                meeting=meeting, title=title.strip()[:250], kind=kind, file_name=stored,
                original_name=original[:250],
                content_type=mimetypes.guess_type(original)[0] or "application/octet-stream",
                size_bytes=size, sha256=digest, uploaded_by=actor,
            )
            audit.record("archive.material_upload", material, actor=actor,
                         after={**audit.snapshot(material, MATERIAL_FIELDS),
                                "meeting_id": meeting.pk})
    except Exception:
        delete(stored)
        raise
    return material


def remove_material(material: Material, *, actor: User) -> Material:
    """The host withdraws a document; its record and hash stay, the file goes."""
    with transaction.atomic():
        current = Material.objects.select_for_update().select_related("meeting").get(
            pk=material.pk)
        if not can_upload_materials(actor, current.meeting):
            raise PermissionDenied(str(Action.REGISTER_MEETING))
        if current.removed_at is not None:
            return current
        before = audit.snapshot(current, MATERIAL_FIELDS)
        current.removed_at = timezone.now()
        current.save(update_fields=["removed_at"])
        audit.record("archive.material_remove", current, actor=actor, before=before,
                     after=audit.snapshot(current, MATERIAL_FIELDS))
        name = current.file_name
        transaction.on_commit(lambda: delete(name), robust=True)
    return current


def _materials_refusal(meeting: Meeting) -> RuleViolation:
    rulebook = active_rulebook()
    if is_state_secret(meeting):
        article = (rulebook.cite(rulebook.materials.article)
                   if rulebook.materials.state_secret_excluded
                   else rulebook.cite(rulebook.secrecy.article))
        return RuleViolation(
            code="materials_state_secret", article=article,
            message=_("The materials of a state-secret meeting are not shared beyond its "
                      "participants."))
    return RuleViolation(
        code="materials_not_requestable", article=rulebook.cite(rulebook.materials.article),
        message=_("You already have this meeting's materials, or it has none to ask for yet."))


def request_access(meeting: Meeting, *, actor: User, reason: str) -> AccessRequest:
    """Someone outside the meeting asks its host for the materials and the recording."""
    if not can_request_access(actor, meeting):
        raise _materials_refusal(meeting)
    if not reason.strip():
        raise InvalidInput({"reason": [_("Say what the materials are needed for.")]})
    try:
        with transaction.atomic():
            request = AccessRequest.objects.create(meeting=meeting, requester=actor,
                                                   agency=actor.agency, reason=reason.strip())
            audit.record("archive.access_request", request, actor=actor,
                         after=audit.snapshot(request, REQUEST_FIELDS))
            notices.access_requested(request)
    except IntegrityError:
        raise InvalidTransition(_("Your earlier request is still waiting for the host.")
                                ) from None
    return request


def decide_access(request: AccessRequest, *, actor: User, approve: bool,
                  reason: str = "") -> AccessRequest:
    """The host approves, or refuses with a reason (ĐN Đ13.4, KH Đ15.4)."""
    with transaction.atomic():
        current = AccessRequest.objects.select_for_update().select_related(
            "meeting__host_agency", "requester").get(pk=request.pk)
        if not can_decide_requests(actor, current.meeting):
            rulebook = active_rulebook()
            raise RuleViolation(
                code="materials_host_only", article=rulebook.cite(rulebook.materials.article),
                message=_("Only the host agency decides who obtains the meeting's materials."))
        if current.state != AccessState.PENDING:
            raise InvalidTransition(_("This request was decided already."))
        if approve and is_state_secret(current.meeting):
            raise _materials_refusal(current.meeting)
        if not approve and not reason.strip():
            raise InvalidInput({"reason": [_("Give the reason for refusing.")]})
        before = audit.snapshot(current, REQUEST_FIELDS)
        current.state = AccessState.APPROVED if approve else AccessState.REFUSED
        current.refusal_reason = "" if approve else reason.strip()
        current.decided_by, current.decided_at = actor, timezone.now()
        current.save()
        audit.record("archive.access_decide", current, actor=actor, before=before,
                     after=audit.snapshot(current, REQUEST_FIELDS))
        notices.access_decided(current)
    return current


def relation(user: User, meeting: Meeting) -> str:
    """How the user stands to the meeting's archive (for the pages): custodian, host,
    participant, approved, or other."""
    if is_custodian(user):
        return "custodian"
    if is_host_side(user, meeting):
        return "host"
    if is_participant_side(user, meeting):
        return "participant"
    if has_approved_request(user, meeting):
        return "approved"
    return "other"
