"""The audit log: every service appends one event per state change, inside its transaction.

Each event's hash covers its content and the previous event's hash (a chain), so changing,
removing or reordering any stored event breaks `verify_chain()` from that point on (R22).

The hash is an HMAC keyed with the audit key (`settings.AUDIT_KEY`), which is kept outside the
database: whoever owns the database can change rows, but cannot compute the hashes that would
make the change fit the chain. Truncating the newest events, or rewriting the chain by someone
who also stole the key, is caught by **checkpoints**: the head's sequence number and hash at a
moment, signed with the key, exported by the operator (`diemcau audit checkpoint`) and kept
elsewhere; `diemcau audit verify --checkpoint FILE` checks the chain against them.

**When the link is made.** `record()` is called inside the service's transaction, but the
event joins the chain only as that transaction ends: when its outermost atomic block exits
successfully, the head is locked, the transaction's events are written with their links, and
the commit follows at once. The head is therefore the last lock every audited transaction
takes, held only for those few statements and the commit — not for the rest of the service's
work — so audited writes of unrelated objects overlap instead of queueing behind each other,
and no lock taken after the head can close a deadlock through it. Events recorded in a block
that is rolled back (a savepoint, or the whole transaction) are dropped with it. Inside a
test's own transaction (Django's test cases), the service's outermost block is the end.

**Several chains.** Even so, every audited commit waited for the one head, and on a busy
server a holder that waits for the CPU holds them all (`bench/load.py`). So the log is spread
over `settings.AUDIT_CHAINS` independent chains (8 on PostgreSQL; SQLite has one writer at a
time and keeps one): a transaction's events join the chain of its first event's object, so
one object's history stays one chain, in order. Each chain has its own head row (chain c: pk
c + 1), each event its place in its chain (`chain`, `chain_seq`) and its predecessor's hash
there; its hash covers its place. `seq` numbers every event in the order they were linked
(on PostgreSQL from a sequence, taken under the chain's lock), for reading the log in order;
a failed commit may leave a gap in it, so a missing event is found by the places of its chain.
`verify_chain()` checks each chain on its own and every head; a checkpoint signs all heads
at once. Events of the single chain (chain 0, placed at their own number: all those written
before the chains) hash exactly as they did before.

Events written before the chain was keyed keep their plain SHA-256 hashes. They may only form
the beginning of the chain, sealed by one keyed `audit.chain_keyed` event that the migration
appended (its hash covers theirs): an unkeyed event anywhere else, or unkeyed events without
the seal, are reported as a break — otherwise rewriting everything as "old" events would pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, User
from .request_context import client_address

GENESIS_HASH = "0" * 64
# The keyed event that seals the events written before the chain was keyed.
CHAIN_KEYED_ACTION = "audit.chain_keyed"
CHECKPOINT_TYPE = "diemcau-audit-checkpoint"
# PostgreSQL: the sequence that numbers the events of every chain (migration 0006).
GLOBAL_SEQUENCE = "core_auditevent_number"


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


def _derived_key(purpose: bytes) -> bytes:
    """One key per use, derived from the audit key, so a chain hash is never a signature."""
    return hmac.new(settings.AUDIT_KEY.encode("utf-8"), purpose, hashlib.sha256).digest()


def _canonical(event: Any) -> bytes:
    payload: dict[str, Any] = {
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
    chain, chain_seq = getattr(event, "chain", 0), getattr(event, "chain_seq", None)
    if chain or (chain_seq is not None and chain_seq != event.seq):
        # An event of several chains binds its place in its own chain too. Events of the
        # single chain (chain 0, its own place equal to `seq`: all before the chains, and
        # every event where one chain is used) keep the payload they always had.
        payload["chain"], payload["chain_seq"] = chain, chain_seq
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode("utf-8")


def _unkeyed_hash(event: Any) -> str:
    """The hash of the events written before the chain was keyed (plain SHA-256)."""
    return hashlib.sha256(_canonical(event)).hexdigest()


def _event_hash(event: Any) -> str:
    return hmac.new(_derived_key(b"diemcau audit chain v2"), _canonical(event),
                    hashlib.sha256).hexdigest()


def chains() -> int:
    """How many independent chains new events are spread over (`settings.AUDIT_CHAINS`)."""
    return max(1, int(getattr(settings, "AUDIT_CHAINS", 1)))


def chain_for(fields: dict[str, Any]) -> int:
    """The chain of a transaction's events: by the object of its first event, so that one
    object's history stays in one chain, in order."""
    count = chains()
    if count == 1:
        return 0
    key = f"{fields.get('object_type', '')}:{fields.get('object_id', '')}".encode()
    return zlib.crc32(key) % count


def head_pk(chain: int) -> int:
    """Chain c's head is the row with primary key c + 1 (chain 0's is the row of before)."""
    return chain + 1


def _append(event_model: Any, head_model: Any, **fields: Any) -> Any:
    """Lock the head, write the next event with its keyed hash, move the head."""
    return _append_all(event_model, head_model, [fields])[0]


def _append_all(event_model: Any, head_model: Any, batch: Sequence[dict[str, Any]],
                chain: int | None = None) -> list[Any]:
    """Lock the head of the chain, write the events in order with their keyed hashes, move
    the head.

    Every audited commit of the same chain waits for whoever holds its head, so it is held
    for as little as possible: one statement locks and reads it (and numbers the events),
    one writes them all, one moves it; the commit follows."""
    chained = any(f.name == "chain_seq" for f in event_model._meta.concrete_fields)
    if chain is None:
        chain = chain_for(batch[0]) if chained else 0
    connection = transaction.get_connection()
    numbers: list[int] | None = None
    if chained and connection.vendor == "postgresql":
        # The event's number (`seq`, the order in which the log is read) comes from a
        # sequence, taken under the head's lock: chains never wait for each other for it.
        head_table = connection.ops.quote_name(head_model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq, hash, (SELECT array_agg(nextval('{GLOBAL_SEQUENCE}')) "
                f"FROM generate_series(1, %s)) FROM {head_table} WHERE id = %s FOR UPDATE",
                [len(batch), head_pk(chain)],
            )
            row = cursor.fetchone()
        if row is not None:
            chain_seq, prev_hash, numbers = int(row[0]), str(row[1]), list(row[2])
    if numbers is None:
        head = head_model.objects.select_for_update().filter(pk=head_pk(chain)).first()
        if head is None:
            head, _ = head_model.objects.select_for_update().get_or_create(
                pk=head_pk(chain), defaults={"seq": 0, "hash": GENESIS_HASH}
            )
        chain_seq, prev_hash = head.seq, head.hash
        if chained and connection.vendor == "postgresql":
            return _append_all(event_model, head_model, batch, chain)  # the head exists now
        if chained:  # SQLite: one writer at a time, so the next number is the largest + 1
            top = event_model.objects.aggregate(top=models.Max("seq"))["top"] or 0
            numbers = list(range(top + 1, top + 1 + len(batch)))
        else:  # the single chain of before (the migrations that predate the chains)
            numbers = list(range(chain_seq + 1, chain_seq + 1 + len(batch)))
    events = []
    for fields, seq in zip(batch, numbers, strict=True):
        fields = dict(fields)
        at = fields.pop("at", None) or timezone.now()
        chain_seq += 1
        place = {"chain": chain, "chain_seq": chain_seq} if chained else {}
        event = event_model(seq=seq, at=at, prev_hash=prev_hash, **place, **fields)
        event.hash = prev_hash = _event_hash(event)
        events.append(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        event_model.objects.bulk_create(events)
    head_model.objects.filter(pk=head_pk(chain)).update(seq=chain_seq, hash=prev_hash)
    return events


def seal_unkeyed_events(event_model: Any, head_model: Any) -> Any | None:
    """Append the keyed event that seals the events hashed before the chain was keyed
    (run once, by the migration that keys the chain). None when there is nothing to seal."""
    count = event_model.objects.count()
    if count == 0 or event_model.objects.filter(action=CHAIN_KEYED_ACTION).exists():
        return None
    return _append_all(event_model, head_model, [dict(
        actor=None, actor_username="", ip=None,
        action=CHAIN_KEYED_ACTION, object_type="core.auditevent", object_id="",
        object_repr="", before=None, after={"unkeyed_events": count},
    )], chain=0)[0]


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
    """Append one event. Must run inside the service's transaction; the event is linked into
    the chain as that transaction ends (see the module's docstring), so the one returned has
    no `seq` or `hash` yet."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the service's transaction")
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    fields = dict(
        at=timezone.now(),  # when the change was made, though linked at the end
        actor=actor_obj,
        actor_username=actor_obj.get_username() if actor_obj else "",
        ip=client_address(),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:300],
        before=to_json(before) if before is not None else None,
        after=to_json(after) if after is not None else None,
    )
    blocks = [id(block) for block in connection.atomic_blocks]
    if not any(not _from_testcase(block) for block in connection.atomic_blocks):
        # Only a test's own transaction is open: no end of the service's block will come.
        return _append(AuditEvent, AuditChainHead, **fields)  # type: ignore[no-any-return]
    connection.__dict__.setdefault(_PENDING, []).append((blocks, fields))
    return AuditEvent(**fields)


# ---------------------------------------------------------------- linking at the end


_PENDING = "_diemcau_audit_pending"  # on the connection: [(ids of the open blocks, fields)]


def _from_testcase(block: Any) -> bool:
    return bool(getattr(block, "_from_testcase", False))


def _ends_transaction(connection: Any, block: Any) -> bool:
    """Whether `block` is the outermost atomic block of the transaction (below it, at most
    the blocks of a test case, which are never committed)."""
    blocks = connection.atomic_blocks
    return bool(blocks) and blocks[-1] is block and all(_from_testcase(b) for b in blocks[:-1])


def _link_pending(connection: Any) -> None:
    """Lock the head and write the transaction's events, in the order they were recorded.

    PostgreSQL checks foreign keys at commit (Django makes them deferred), and a check locks
    the row it refers to: done after the head was taken, a check waiting for a row that
    another writer holds while it waits for the head would be a deadlock. So the transaction's
    checks run first, and the head is really the last lock taken."""
    pending = connection.__dict__.pop(_PENDING, None) or []
    if not pending:
        return
    deferred = connection.vendor == "postgresql"
    if deferred:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _append_all(AuditEvent, AuditChainHead, [fields for _, fields in pending])  # one chain
    # The commit follows at once, unless a test case's transaction goes on: only then must
    # the later statements find their constraints deferred again (not worth a round trip
    # while the head is held, otherwise).
    if deferred and not (len(connection.atomic_blocks) == 1 and connection.commit_on_exit):
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _drop_pending(connection: Any, block: Any) -> None:
    """The block is rolled back: so are the events recorded while it was open."""
    pending = connection.__dict__.get(_PENDING)
    if not pending:
        return
    depth = len(connection.atomic_blocks) - 1
    kept = [(ids, fields) for ids, fields in pending
            if not (len(ids) > depth and ids[depth] == id(block))]
    if kept:
        connection.__dict__[_PENDING] = kept
    else:
        connection.__dict__.pop(_PENDING, None)


def install_transaction_hook() -> None:
    """Make every atomic block link its transaction's pending events as it ends (called once,
    from `CoreConfig.ready`). Django has no hook just before a commit; this wraps the exit of
    an atomic block, which is where the commit (or the test's end of the service) happens."""
    if getattr(transaction.Atomic, "_diemcau_audit_hook", False):
        return
    original_exit = transaction.Atomic.__exit__

    def __exit__(self: Any, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        connection = transaction.get_connection(self.using)
        if _PENDING not in connection.__dict__:
            return original_exit(self, exc_type, exc_value, traceback)
        if exc_type is not None or connection.needs_rollback:
            _drop_pending(connection, self)
        elif _ends_transaction(connection, self):
            try:
                _link_pending(connection)
            except BaseException as error:  # the transaction is rolled back with the events
                connection.__dict__.pop(_PENDING, None)
                original_exit(self, type(error), error, error.__traceback__)
                raise
        if _ends_transaction(connection, self):
            connection.__dict__.pop(_PENDING, None)  # rolled back, or linked
        return original_exit(self, exc_type, exc_value, traceback)

    transaction.Atomic.__exit__ = __exit__  # type: ignore[method-assign]
    transaction.Atomic._diemcau_audit_hook = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, signed with the audit key: `seq` events, the last one
    hashing to `hash`. With several chains, `seq` and `hash` are chain 0's head (its own
    count of events) and `heads` holds each other chain's as (chain, count, hash): the
    signature covers every head."""

    seq: int
    hash: str
    at: datetime
    signature: str = ""
    heads: tuple[tuple[int, int, str], ...] = ()

    def _signed_text(self) -> bytes:
        data: dict[str, Any] = {"type": CHECKPOINT_TYPE, "seq": self.seq, "hash": self.hash,
                                "at": self.at.astimezone(UTC).isoformat(timespec="seconds")}
        if self.heads:  # a checkpoint of the single chain is signed as it always was
            data["heads"] = [list(head) for head in self.heads]
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def expected_signature(self) -> str:
        return hmac.new(_derived_key(b"diemcau audit checkpoint v1"), self._signed_text(),
                        hashlib.sha256).hexdigest()

    def signed(self) -> Checkpoint:
        return Checkpoint(self.seq, self.hash, self.at, self.expected_signature(), self.heads)

    @property
    def signature_ok(self) -> bool:
        return hmac.compare_digest(self.signature, self.expected_signature())

    def all_heads(self) -> dict[int, tuple[int, str]]:
        """{chain: (its count of events, its last hash)}."""
        return {0: (self.seq, self.hash)} | {c: (n, h) for c, n, h in self.heads}

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "type": CHECKPOINT_TYPE, "seq": self.seq, "hash": self.hash,
            "at": self.at.astimezone(UTC).isoformat(timespec="seconds"),
            "signature": self.signature,
        }
        if self.heads:
            data["heads"] = [list(head) for head in self.heads]
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Raises ValueError for anything that is not a checkpoint file."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("type") != CHECKPOINT_TYPE:
                raise ValueError("not a diemcau audit checkpoint")
            seq, digest = int(data["seq"]), str(data["hash"])
            at = datetime.fromisoformat(str(data["at"]))
            signature = str(data["signature"])
            heads = tuple((int(c), int(n), str(h)) for c, n, h in data.get("heads") or [])
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a diemcau audit checkpoint ({error})") from error
        if seq < 0 or at.tzinfo is None or any(c < 1 or n < 0 for c, n, _ in heads):
            raise ValueError("not a diemcau audit checkpoint (bad seq or time)")
        return cls(seq, digest, at, signature, heads)


def make_checkpoint() -> Checkpoint:
    """A signed checkpoint of every chain's head now (read in one query, so it is
    consistent)."""
    heads = {head.pk - 1: (head.seq, head.hash) for head in AuditChainHead.objects.all()}
    seq, digest = heads.pop(0, (0, GENESIS_HASH))
    others = tuple((c, n, h) for c, (n, h) in sorted(heads.items()) if n > 0)
    return Checkpoint(seq, digest, timezone.now().replace(microsecond=0), heads=others).signed()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    problem: str
    checkpoints: int = 0
    unkeyed: int = field(default=0)
    chains: int = 1

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.problem


def verify_chain(batch_size: int = 2000, checkpoints: Sequence[Checkpoint] = ()) -> ChainReport:
    """Recompute every hash, chain by chain in order; report the first event that does not
    fit its chain, or the first checkpoint that the chains no longer match."""
    for checkpoint in checkpoints:
        if not checkpoint.signature_ok:
            return ChainReport(0, None, f"the checkpoint of #{checkpoint.seq} is not signed "
                                        "with this audit key (forged, or another key)")
    # (chain, place in it) → the checkpoint that saw it as the chain's head
    expected = {(c, n): (cp, h) for cp in checkpoints for c, (n, h) in cp.all_heads().items()}
    checked = 0
    unkeyed = 0
    ends: dict[int, tuple[int, str]] = {}  # chain → (its last place, its last hash)
    chain, place, prev_hash = -1, 0, GENESIS_HASH
    keyed = False  # once a keyed event is seen, unkeyed ones are a rewrite
    events = AuditEvent.objects.order_by("chain", "chain_seq").iterator(chunk_size=batch_size)
    for event in events:
        if event.chain != chain:
            if chain >= 0:
                ends[chain] = (place, prev_hash)
            chain, place, prev_hash = event.chain, 0, GENESIS_HASH
        where = f" (chain {chain})" if chain else ""
        if event.chain_seq != place + 1:
            return ChainReport(checked, event.seq, f"missing event before #{event.seq}{where}")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq,
                               f"#{event.seq} does not follow its predecessor{where}")
        if hmac.compare_digest(_event_hash(event), event.hash):
            if chain == 0 and not keyed and unkeyed and event.action != CHAIN_KEYED_ACTION:
                return ChainReport(checked, event.seq, f"#{event.seq}: the unkeyed events "
                                   "before it were never sealed with the audit key")
            if chain == 0:
                keyed = True
        elif (chain == 0 and not keyed and event.action != CHAIN_KEYED_ACTION
              and hmac.compare_digest(_unkeyed_hash(event), event.hash)):
            unkeyed += 1
        else:
            return ChainReport(checked, event.seq, f"#{event.seq} was changed after it was "
                               "written, or the audit key is not the one it was written with")
        seen = expected.get((chain, event.chain_seq))
        if seen is not None and not hmac.compare_digest(seen[1], event.hash):
            return ChainReport(checked, event.seq, f"#{event.seq} is not the event of the "
                               f"checkpoint of {seen[0].at:%Y-%m-%d %H:%M} UTC: the chain "
                               "was rewritten since")
        place, prev_hash = event.chain_seq, event.hash
        checked += 1
    if chain >= 0:
        ends[chain] = (place, prev_hash)
    if unkeyed and not keyed:
        return ChainReport(checked, None, f"{unkeyed} event(s) are not keyed with the audit "
                           "key and not sealed (rewritten, or `diemcau migrate` was not run)")
    for (c, n), (cp, digest) in sorted(expected.items(), key=lambda kv: -kv[0][1]):
        end = ends.get(c, (0, GENESIS_HASH))[0]
        if n > end:
            where = f" of chain {c}" if c else ""
            return ChainReport(checked, None, f"the chain{where} ends at #{end}, but the "
                               f"checkpoint of {cp.at:%Y-%m-%d %H:%M} UTC saw #{n}: the newest "
                               "events were removed")
        if n == 0 and digest != GENESIS_HASH:
            return ChainReport(checked, None, "a checkpoint of the empty chain has a wrong hash")
    for head in AuditChainHead.objects.all():
        if (head.seq, head.hash) != ends.get(head.pk - 1, (0, GENESIS_HASH)):
            return ChainReport(checked, None,
                               "the newest events were removed (head does not match)")
    return ChainReport(checked, None, "", checkpoints=len(checkpoints), unkeyed=unkeyed,
                       chains=max(1, len(ends)))
