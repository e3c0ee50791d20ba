"""Handing the recording to the host (ĐN Đ13.3, KH Đ15.3), its deadline, downloads through
signed expiring links, and the purge at the end of the retention (R19, R20).

- `hand_over`: the operator hands the ready recording to the host agency, whose people then
  get access; one of them acknowledges receipt (`acknowledge_receipt`: who, when).
- `warn_handovers_due_soon` and `record_handover_breaches`: the worker's warning before the
  deadline and the breach record after it, like the reply deadline's (`rules.handover_deadline`).
- `issue_link` / `open_link` / `record_download`: every download goes through a link signed
  for one person and one file that expires (`settings.ARCHIVE_LINK_MINUTES`), and is audited.
- `purge` / `purge_expired`: the files are deleted; the records and their audit trail stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.rulebooks import active_rulebook

from .. import notices
from ..choices import PLAYABLE_STATES, RecordingState
from ..models import Material, Recording, RecordingTrack
from ..permissions import (
    can_acknowledge,
    can_download,
    can_play,
    can_read_materials,
    is_custodian,
)
from ..rules import HandoverState, handover_deadline
from .recordings import snapshot
from .storage import delete

LINK_SALT = "diemcau.archive.link"


def _require_custodian(actor: User) -> None:
    if not is_custodian(actor):
        raise PermissionDenied(str(Action.MANAGE_MCU),
                               _("Only the MCU operators keep the archive."))


def hand_over(record: Recording, *, actor: User) -> Recording:
    """The host agency's people get access to the recording (ĐN Đ13.3, KH Đ15.3)."""
    _require_custodian(actor)
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        if current.state != RecordingState.READY:
            raise InvalidTransition(_("Only a ready recording can be handed over."))
        before = snapshot(current)
        now = timezone.now()
        current.state, current.handed_over_at, current.handed_over_by = (
            RecordingState.HANDED_OVER, now, actor)
        if (current.handover_due_at and now > current.handover_due_at
                and current.handover_breached_at is None):
            current.handover_breached_at = current.handover_due_at
        current.save()
        audit.record("archive.hand_over", current, actor=actor, before=before,
                     after=snapshot(current))
        notices.handed_over(current)
    return current


def acknowledge_receipt(record: Recording, *, actor: User) -> Recording:
    """One of the host agency's people confirms the recording was received."""
    with transaction.atomic():
        current = Recording.objects.select_for_update().select_related("meeting").get(
            pk=record.pk)
        if not can_acknowledge(actor, current):
            if current.acknowledged_at is not None:
                raise InvalidTransition(_("Receipt was acknowledged already."))
            raise PermissionDenied(
                str(Action.REGISTER_MEETING),
                _("Only the host agency acknowledges receipt of a handed-over recording."))
        before = snapshot(current)
        current.acknowledged_at, current.acknowledged_by = timezone.now(), actor
        current.save()
        audit.record("archive.acknowledge", current, actor=actor, before=before,
                     after=snapshot(current))
        notices.acknowledged(current)
    return current


def _pending() -> object:
    return Recording.objects.select_for_update().filter(
        handed_over_at__isnull=True, handover_due_at__isnull=False,
        state__in=[RecordingState.PROCESSING, RecordingState.READY, RecordingState.FAILED],
    )


@transaction.atomic
def warn_handovers_due_soon(now: dt.datetime | None = None) -> int:
    """Warn the operators once about each handover due soon; returns how many."""
    now = now or timezone.now()
    rulebook = active_rulebook()
    warned = 0
    for record in _pending().filter(handover_warned_at__isnull=True,  # type: ignore[attr-defined]
                                    handover_breached_at__isnull=True):
        deadline = handover_deadline(record, rulebook, now)
        if deadline is None or deadline.state != HandoverState.DUE_SOON:
            continue
        record.handover_warned_at = now
        record.save(update_fields=["handover_warned_at"])
        audit.record("archive.handover_warning", record, actor=None,
                     after={"handover_due_at": record.handover_due_at, "warned_at": now})
        notices.handover_due_soon(record)
        warned += 1
    return warned


@transaction.atomic
def record_handover_breaches(now: dt.datetime | None = None) -> int:
    """Mark recordings not handed over by their deadline; returns how many."""
    now = now or timezone.now()
    rulebook = active_rulebook()
    marked = 0
    for record in _pending().filter(handover_breached_at__isnull=True,  # type: ignore[attr-defined]
                                    handover_due_at__lt=now):
        deadline = handover_deadline(record, rulebook, now)
        if deadline is None or not deadline.missed:
            continue
        record.handover_breached_at = now
        record.save(update_fields=["handover_breached_at"])
        audit.record("archive.handover_overdue", record, actor=None,
                     after={"handover_due_at": record.handover_due_at, "breached_at": now})
        notices.handover_overdue(record)
        marked += 1
    return marked


# ---------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    kind: str  # "recording", "track", "material"
    object_id: int
    user_id: int
    attachment: bool  # a download (True) or playback on the page (False)


def _target(kind: str, object_id: int) -> Recording | RecordingTrack | Material:
    if kind == "recording":
        return Recording.objects.select_related("meeting").get(pk=object_id)
    if kind == "track":
        return RecordingTrack.objects.select_related("recording__meeting").get(pk=object_id)
    if kind == "material":
        return Material.objects.select_related("meeting").get(pk=object_id)
    raise ValueError(kind)


def may_fetch(user: User, kind: str, obj: object, *, attachment: bool) -> bool:
    if isinstance(obj, Recording):
        if not obj.file_name or obj.purged_at is not None:
            return False
        return can_download(user, obj) if attachment else can_play(user, obj)
    if isinstance(obj, RecordingTrack):
        return (obj.purged_at is None and obj.kind != "raw"
                and can_download(user, obj.recording))
    if isinstance(obj, Material):
        return obj.available and can_read_materials(user, obj.meeting)
    return False


def issue_link(user: User, obj: Recording | RecordingTrack | Material, *,
               attachment: bool = True) -> str:
    """A token for /archive/files/<token>/: signed for this person and file, expiring. Issuing
    a download link is audited."""
    kind = {Recording: "recording", RecordingTrack: "track", Material: "material"}[type(obj)]
    if not may_fetch(user, kind, obj, attachment=attachment):
        raise PermissionDenied(str(Action.VIEW_MEETING),
                               _("You may not obtain this file."))
    token = signing.dumps({"k": kind, "i": obj.pk, "u": user.pk, "a": int(attachment)},
                          salt=LINK_SALT, compress=True)
    if attachment:
        with transaction.atomic():
            audit.record("archive.link_issue", obj, actor=user,
                         after={"kind": kind, "minutes": settings.ARCHIVE_LINK_MINUTES})
    return token


class LinkInvalid(Exception):
    pass


def open_link(token: str, user: User) -> tuple[Link, Recording | RecordingTrack | Material]:
    """The file a token names, when it is still valid, for this same person, who may still
    have it (an access withdrawn since is not served)."""
    try:
        data = signing.loads(token, salt=LINK_SALT,
                             max_age=dt.timedelta(minutes=settings.ARCHIVE_LINK_MINUTES))
    except signing.SignatureExpired as exc:
        raise LinkInvalid(_("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(_("This link is not valid.")) from exc
    link = Link(str(data["k"]), int(data["i"]), int(data["u"]), bool(data["a"]))
    if link.user_id != user.pk:
        raise LinkInvalid(_("This link was issued to someone else."))
    try:
        obj = _target(link.kind, link.object_id)
    except (Recording.DoesNotExist, RecordingTrack.DoesNotExist, Material.DoesNotExist,
            ValueError) as exc:
        raise LinkInvalid(_("This file no longer exists.")) from exc
    if not may_fetch(user, link.kind, obj, attachment=link.attachment):
        raise LinkInvalid(_("You may not obtain this file."))
    return link, obj


def record_download(user: User, link: Link, obj: object, *, client: str = "",
                    byte_range: str = "") -> None:
    """One audit event per download (a player's later range requests of the same file are
    the same download and are not counted again)."""
    with transaction.atomic():
        audit.record("archive.download" if link.attachment else "archive.play",
                     obj if hasattr(obj, "_meta") else None,  # type: ignore[arg-type]
                     actor=user, after={"kind": link.kind, "range": byte_range,
                                        "client": client})


# ---------------------------------------------------------------------------- retention


def purge(record: Recording, *, actor: User | None, reason: str = "") -> Recording:
    """Delete the recording's files; the record, its hashes and its audit trail stay."""
    if actor is not None:
        _require_custodian(actor)
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        if current.purged_at is not None:
            return current
        if current.state in (RecordingState.RECORDING, RecordingState.PROCESSING):
            raise InvalidTransition(_("A recording still being made cannot be purged."))
        before = snapshot(current)
        names = [current.file_name, current.thumbnail_name]
        names += list(current.tracks.filter(purged_at__isnull=True)
                      .values_list("file_name", flat=True))
        now = timezone.now()
        current.tracks.update(purged_at=now)
        current.state, current.purged_at = RecordingState.PURGED, now
        current.save()
        materials = list(Material.objects.select_for_update().filter(
            meeting_id=current.meeting_id, purged_at__isnull=True))
        for material in materials:
            names.append(material.file_name)
            material.purged_at = now
            material.save(update_fields=["purged_at"])
        audit.record("archive.purge", current, actor=actor, before=before,
                     after={**snapshot(current), "reason": reason,
                            "materials": [m.pk for m in materials]})
        # The files go once the record of their going is committed.
        def delete_files() -> None:
            for name in names:
                delete(name)

        transaction.on_commit(delete_files, robust=True)
    return current


def purge_expired(now: dt.datetime | None = None) -> int:
    """Purge what passed its retention (`keep_until`); returns how many recordings."""
    now = now or timezone.now()
    due = Recording.objects.filter(keep_until__lt=now, purged_at__isnull=True).exclude(
        state__in=[RecordingState.RECORDING, RecordingState.PROCESSING])
    count = 0
    for record in due:
        purge(record, actor=None, reason="retention")
        count += 1
    return count


def playable(record: Recording) -> bool:
    return record.state in PLAYABLE_STATES and bool(record.file_name)
