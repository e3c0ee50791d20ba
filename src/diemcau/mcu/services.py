"""MCU nodes: registering and changing them (operators, audited) and polling their health.

A node that stops answering is marked down, the change is audited, and the MCU operators are
told at once (R16: an operator on duty monitors the MCU).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.core.permissions import Action, operators, require
from diemcau.core.text import refuse_hidden_characters
from diemcau.notifications.kinds import Text

from .janus_client import AdminClient, JanusClient, JanusError, JanusUnavailable
from .models import DEFAULT_MAX_MIXERS, McuNode, NodeHealth

# What audit events show of a node; the secrets never appear (R22).
NODE_FIELDS = [
    "name",
    "max_meetings",
    "max_endpoints",
    "max_mixers",
    "sip_address",
    "is_active",
    "janus_url",
    "admin_url",
    "ws_url",
    "health",
]
SECRET_FIELDS = ("api_secret", "admin_secret", "room_admin_secret")
EDITABLE_FIELDS = frozenset(
    {"name", "max_meetings", "max_endpoints", "max_mixers", "sip_address", "is_active",
     "janus_url", "admin_url", "ws_url", *SECRET_FIELDS}
)
# Changing any of these means the last health check says nothing about the new settings.
_REACH_FIELDS = frozenset({"janus_url", "admin_url", *SECRET_FIELDS})


@dataclass
class NodeInput:
    name: str
    max_meetings: int
    max_endpoints: int
    janus_url: str = ""
    admin_url: str = ""
    ws_url: str = ""
    api_secret: str = ""
    admin_secret: str = ""
    room_admin_secret: str = ""
    is_active: bool = True
    max_mixers: int = DEFAULT_MAX_MIXERS
    sip_address: str = ""


def _snapshot(node: McuNode) -> dict[str, Any]:
    data = audit.snapshot(node, NODE_FIELDS)
    # Whether each secret is set, never its value.
    data["secrets_set"] = sorted(name for name in SECRET_FIELDS if getattr(node, name))
    return data


def _validate(node: McuNode) -> None:
    refuse_hidden_characters({"name": node.name})
    if node.janus_url or node.admin_url:
        missing = [name for name in ("janus_url", "admin_url", *SECRET_FIELDS)
                   if not getattr(node, name)]
        if missing:
            raise InvalidInput(
                {name: [_("Required for a node the server manages.")] for name in missing}
            )
    try:
        node.full_clean()
    except ValidationError as exc:
        raise InvalidInput({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc


@transaction.atomic
def register_node(data: NodeInput, *, actor: User) -> McuNode:
    """Add a node of the MCU (operators and administrators)."""
    require(actor, Action.MANAGE_MCU)
    return _create(data, actor)


@transaction.atomic
def update_node(node: McuNode, changes: Mapping[str, Any], *, actor: User) -> McuNode:
    """Change some fields of a node. Only the names of changed secrets are audited."""
    require(actor, Action.MANAGE_MCU)
    return _update(node, changes, actor)


@transaction.atomic
def register_local_node(data: NodeInput) -> McuNode:
    """`diemcau janus run --register`: create or update the node of the Janus this machine
    runs. Run from the console by whoever runs the server; audited without a user."""
    node = McuNode.objects.select_for_update().filter(name=data.name).first()
    if node is None:
        return _create(data, None)
    return _update(node, {k: v for k, v in asdict(data).items() if k != "name"}, None)


def _create(data: NodeInput, actor: User | None) -> McuNode:
    node = McuNode(**asdict(data))
    _validate(node)
    node.save()
    audit.record("mcu.node_register", node, actor=actor, after=_snapshot(node))
    return node


def _update(node: McuNode, changes: Mapping[str, Any], actor: User | None) -> McuNode:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput({name: [_("This field cannot be changed here.")] for name in unknown})
    node = McuNode.objects.select_for_update().get(pk=node.pk)
    before = _snapshot(node)
    changed = [name for name, value in changes.items() if getattr(node, name) != value]
    if not changed:
        return node
    for name in changed:
        setattr(node, name, changes[name])
    if _REACH_FIELDS & set(changed):
        node.health, node.last_error = NodeHealth.UNKNOWN, ""
    _validate(node)
    node.save()
    after = _snapshot(node)
    after["secrets_changed"] = sorted(set(changed) & set(SECRET_FIELDS))
    audit.record("mcu.node_update", node, actor=actor, before=before, after=after)
    return node


# ------------------------------------------------------------------------------------ health


def probe(node: McuNode) -> str:
    """Ask the node's Janus for `info` and its admin API for `ping` and `get_status` (the
    ping alone does not check the admin secret). Returns "" when all answered, else why not."""
    if not node.is_managed:
        return _("The node has no Janus API or admin API URL.")
    access = node.access()
    try:
        JanusClient(access).info()
        admin = AdminClient(access)
        admin.ping()
        admin.get_status()
    except (JanusError, JanusUnavailable) as exc:
        return str(exc) or exc.__class__.__name__
    return ""


def poll_health(node: McuNode) -> bool:
    """Poll one node and record the result; True when it is up.

    The network calls run outside any transaction (they may take the 5 s timeout), so the
    database is never locked while waiting for Janus.
    """
    return _record_health(node.pk, probe(node))


@transaction.atomic
def _record_health(node_id: int, error: str) -> bool:
    node = McuNode.objects.select_for_update().get(pk=node_id)
    now = timezone.now()
    previous = node.health
    node.health = NodeHealth.DOWN if error else NodeHealth.UP
    node.health_checked_at = now
    node.last_error = error[:2000]
    if not error:
        node.last_seen_at = now
    node.save(update_fields=["health", "health_checked_at", "last_error", "last_seen_at"])
    if node.health != previous:
        action = "mcu.node_down" if error else "mcu.node_up"
        audit.record(
            action,
            node,
            actor=None,
            before={"health": previous},
            after={"health": node.health, "error": node.last_error},
        )
        if error:
            _tell_operators(node, "mcu.node_down", error)
        elif previous == NodeHealth.DOWN:
            _tell_operators(node, "mcu.node_up", "")
    return not error


def _tell_operators(node: McuNode, kind: str, error: str) -> None:
    """Written with the health change (the outbox commits with it); rendered in each
    operator's language by `render_node_health`."""
    from diemcau.notifications.services import notify

    notify(operators(), kind=kind, params={
        "node": node.name,
        "error": error,
        "last_seen": node.last_seen_at.isoformat() if node.last_seen_at else "",
    })


def render_node_health(params: Mapping[str, Any], outside: bool) -> Text:
    """mcu.node_down / mcu.node_up: which node, its last error and when it last answered."""
    from django.utils.dateparse import parse_datetime

    name = params.get("node", "")
    if params.get("error"):
        subject = _("MCU node %(name)s is not answering") % {"name": name}
    else:
        subject = _("MCU node %(name)s answers again") % {"name": name}
    body = subject + "."
    if params.get("error"):
        body += "\n" + _("Last error: %(error)s") % {"error": params["error"]}
    seen = parse_datetime(params.get("last_seen") or "")
    if seen is not None:
        body += "\n" + _("Last answered at %(time)s.") % {
            "time": timezone.localtime(seen).strftime("%d/%m/%Y %H:%M:%S")}
    return Text(subject, body)
