"""MCU node services: registration and changes (operators, audited, secrets never in the
audit log) and health polling (down → audit + operators told)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.mcu import janus_config
from diemcau.mcu.models import McuNode, NodeHealth
from diemcau.mcu.services import NodeInput, poll_health, register_node, update_node
from diemcau.mcu.testing.janus import JanusProcess, free_ports
from diemcau.notifications.models import Notification
from diemcau.testing.factories import McuNodeFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRETS = dict(api_secret="api-SECRET-1", admin_secret="admin-SECRET-2",
               room_admin_secret="room-SECRET-3")


def node_input(name: str = "mcu-a", port: int = 8088, **extra: object) -> NodeInput:
    data: dict[str, object] = dict(
        name=name, max_meetings=10, max_endpoints=100,
        janus_url=f"http://127.0.0.1:{port}/janus", admin_url=f"http://127.0.0.1:{port}/admin",
        ws_url="ws://127.0.0.1:8188/", **SECRETS,
    )
    data.update(extra)
    return NodeInput(**data)  # type: ignore[arg-type]


def audit_text() -> str:
    events = AuditEvent.objects.all()
    return json.dumps([[e.before, e.after, e.object_repr] for e in events], ensure_ascii=False)


@pytest.fixture
def operator():
    return UserFactory(role=Role.OPERATOR)


def test_operator_registers_and_updates_a_node_without_secrets_in_the_audit(operator):
    node = register_node(node_input(), actor=operator)
    assert node.health == NodeHealth.UNKNOWN and node.room_admin_secret == "room-SECRET-3"
    update_node(node, {"max_meetings": 12, "admin_secret": "admin-SECRET-new"}, actor=operator)
    node.refresh_from_db()
    assert node.max_meetings == 12 and node.admin_secret == "admin-SECRET-new"
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["mcu.node_register", "mcu.node_update"]
    update = AuditEvent.objects.get(action="mcu.node_update")
    assert update.before["max_meetings"] == 10 and update.after["max_meetings"] == 12
    assert update.after["secrets_changed"] == ["admin_secret"]
    assert update.after["secrets_set"] == ["admin_secret", "api_secret", "room_admin_secret"]
    assert "SECRET" not in audit_text()
    assert verify_chain().ok


def test_unchanged_update_writes_nothing(operator):
    node = register_node(node_input(), actor=operator)
    update_node(node, {"max_meetings": 10}, actor=operator)
    assert AuditEvent.objects.filter(action="mcu.node_update").count() == 0


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.OFFICE, Role.AUDITOR])
def test_only_operators_and_admins_manage_nodes(role):
    with pytest.raises(PermissionDenied):
        register_node(node_input(), actor=UserFactory(role=role))
    node = McuNodeFactory()
    with pytest.raises(PermissionDenied):
        update_node(node, {"max_meetings": 3}, actor=UserFactory(role=role))


def test_bad_node_input_is_refused(operator):
    with pytest.raises(InvalidInput) as bad_ws:
        register_node(node_input(ws_url="http://127.0.0.1:8188/"), actor=operator)
    assert "ws_url" in bad_ws.value.errors
    with pytest.raises(InvalidInput) as no_secret:
        register_node(node_input(admin_secret=""), actor=operator)
    assert "admin_secret" in no_secret.value.errors
    node = register_node(node_input(), actor=operator)
    with pytest.raises(InvalidInput) as unknown:
        update_node(node, {"health": "up"}, actor=operator)
    assert "health" in unknown.value.errors
    assert not McuNode.objects.exclude(pk=node.pk).exists()


def test_unreachable_node_is_marked_down_once_and_operators_are_told(operator):
    technician = UserFactory(role=Role.TECHNICIAN)
    (port,) = free_ports(1)
    node = register_node(node_input(port=port), actor=operator)
    assert poll_health(node) is False
    node.refresh_from_db()
    assert node.health == NodeHealth.DOWN and node.last_error and node.last_seen_at is None
    down = AuditEvent.objects.get(action="mcu.node_down")
    assert down.actor is None and down.after["health"] == "down"
    told = Notification.objects.filter(kind="mcu.node_down")
    assert [n.user for n in told] == [operator]
    assert node.name in told[0].subject
    assert not Notification.objects.filter(user=technician).exists()
    # Still down: no new event, nobody told twice.
    assert poll_health(node) is False
    assert AuditEvent.objects.filter(action="mcu.node_down").count() == 1
    assert Notification.objects.filter(kind="mcu.node_down").count() == 1


def test_node_without_urls_is_down_with_a_reason():
    node = McuNodeFactory()
    assert poll_health(node) is False
    node.refresh_from_db()
    assert node.health == NodeHealth.DOWN and "URL" in node.last_error


@pytest.mark.janus
def test_health_up_then_down_when_janus_dies_then_up_again(janus_factory, operator):
    janus: JanusProcess = janus_factory()
    node = register_node(janus.node_input(), actor=operator)
    assert poll_health(node) is True
    node.refresh_from_db()
    assert node.health == NodeHealth.UP and node.last_seen_at is not None
    assert node.last_error == ""
    seen = node.last_seen_at

    janus.stop(kill=True)
    assert poll_health(node) is False
    node.refresh_from_db()
    assert node.health == NodeHealth.DOWN and node.last_seen_at == seen
    assert AuditEvent.objects.filter(action="mcu.node_down", object_id=str(node.pk)).exists()
    assert Notification.objects.filter(kind="mcu.node_down", user=operator).count() == 1

    janus.start()
    assert poll_health(node) is True
    node.refresh_from_db()
    assert node.health == NodeHealth.UP
    assert Notification.objects.filter(kind="mcu.node_up", user=operator).count() == 1
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["mcu.node_register", "mcu.node_up", "mcu.node_down", "mcu.node_up"]


@pytest.mark.janus
def test_wrong_admin_secret_is_down(janus_factory, operator):
    janus: JanusProcess = janus_factory()
    node = register_node(janus.node_input(admin_secret="not-the-one"), actor=operator)
    assert poll_health(node) is False
    node.refresh_from_db()
    assert "403" in node.last_error


@pytest.mark.django_db(transaction=True)  # the command closes the connection before exec
def test_run_register_writes_config_registers_the_node_and_execs_janus(
    tmp_path: Path, settings, monkeypatch
):
    settings.JANUS_RECORDINGS_DIR = tmp_path / "recordings"
    settings.JANUS_BINARY = "/bin/true"  # never really exec'd here
    executed: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda binary, argv: executed.append(argv))
    folder = tmp_path / "janus"
    out = StringIO()
    call_command("janus", "run", "--dir", str(folder), "--register", "--node", "mcu-local",
                 "--max-meetings", "7", "--http-port", "18123", stdout=out)
    node = McuNode.objects.get(name="mcu-local")
    secrets = janus_config.load_or_create_secrets(folder)
    assert node.max_meetings == 7 and node.max_endpoints == 200
    assert node.janus_url == "http://127.0.0.1:18123/janus"
    assert node.api_secret == secrets.api_secret
    assert node.room_admin_secret == secrets.room_admin_secret
    assert executed == [["/bin/true", "-C", str(folder / "janus.jcfg"), "-F", str(folder)]]
    # Again without options: the folder is kept, the row updated (capacity kept).
    call_command("janus", "run", "--dir", str(folder), "--register", "--node", "mcu-local",
                 stdout=StringIO())
    node.refresh_from_db()
    assert node.max_meetings == 7 and node.janus_url == "http://127.0.0.1:18123/janus"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["mcu.node_register"]
    assert "SECRET" not in audit_text() and secrets.api_secret not in audit_text()
