"""The audit log: every service appends one event per state change, inside its transaction.

Each event's hash covers its content and the previous event's hash (a chain), so changing,
removing or reordering any stored event breaks `verify_chain()` from that point on (R22).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, User
from .request_context import client_address

GENESIS_HASH = "0" * 64


def to_json(value: Any) -> Any:
    """Turn a value into plain JSON data, so the hash is the same when it is read back."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of an object, secrets left out, as JSON data."""
    names = list(fields) if fields is not None else [f.attname for f in obj._meta.concrete_fields]
    data = {name: getattr(obj, name) for name in names if not _is_secret(name)}
    return to_json(data)


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("password", "secret", "key_hash", "token", "pin"))


def _event_hash(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_username": event.actor_username,
        "ip": event.ip,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    action: str,
    obj: models.Model | None,
    *,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the service's transaction")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        seq=head.seq + 1,
        at=timezone.now(),
        actor=actor_obj,
        actor_username=actor_obj.get_username() if actor_obj else "",
        ip=client_address(),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:300],
        before=to_json(before) if before is not None else None,
        after=to_json(after) if after is not None else None,
        prev_hash=head.hash,
    )
    event.hash = _event_hash(event)
    event.save(force_insert=True)
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Recompute every hash in order; report the first event that does not fit the chain."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainReport(checked, event.seq, f"missing event before #{event.seq}")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, f"#{event.seq} does not follow its predecessor")
        if _event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, f"#{event.seq} was changed after it was written")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(checked, None, "the newest events were removed (head does not match)")
    return ChainReport(checked, None, "")
