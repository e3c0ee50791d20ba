"""The devices of a room (KH Đ6.4).

KH Đ6.4: "Trường hợp tại một điểm cầu có nhiều thiết bị cùng kết nối hoặc tại một cơ quan, địa
phương có nhiều điểm cầu cùng kết nối trong một phiên họp, tên của các thiết bị được phân biệt
bằng các chữ số thêm vào sau tên điểm cầu, ví dụ: UBND.Nha Trang.01; UBND.Nha Trang.02".
A device belongs to its room (the endpoint); the quota of KH Đ8 counts rooms, so an agency at
its quota may still connect a second device in its one room.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.core.text import hidden_character_errors
from diemcau.rulebooks import active_rulebook

from .. import naming
from ..choices import EndpointStatus, TerminalKind
from ..models import Device, Endpoint
from ..selectors import suggested_device_name
from .endpoints import ADMITTED, audit_endpoint, locked

DEVICE_FIELDS = ["endpoint_id", "name", "terminal_kind", "vcs_ip", "note"]


@dataclass
class DeviceInput:
    name: str
    terminal_kind: str
    vcs_ip: str | None = None
    note: str = ""


def _check_device_name(endpoint: Endpoint, data: DeviceInput) -> str:
    rulebook = active_rulebook()
    name = data.name.strip()
    if not naming.name_matches(name, endpoint.agency, rulebook):
        assert rulebook.naming is not None
        raise RuleViolation(
            code="device_name_pattern",
            article=rulebook.cite(rulebook.naming.article),
            message=_("A device of this room is named after it with a number: %(name)s")
            % {"name": suggested_device_name(endpoint, rulebook)},
            field="name",
        )
    if (Device.objects.filter(name__iexact=name).exists()
            or Endpoint.objects.filter(name__iexact=name).exists()):
        raise InvalidInput({"name": [_("Another endpoint or device already has this name.")]})
    return name


@transaction.atomic
def add_device(endpoint: Endpoint, data: DeviceInput, *, actor: User) -> Device:
    """Add a device to a room. It is not a new điểm cầu, so the quota does not count it
    (KH Đ8); on an admitted room a new terminal waits for the police check (ĐN Đ16.5)."""
    endpoint, before = locked(endpoint, Action.EDIT_ENDPOINT, actor)
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = [_("This field is required.")]
    if data.terminal_kind not in TerminalKind.values:
        errors["terminal_kind"] = [_("Choose a valid terminal kind.")]
    errors.update(hidden_character_errors({"name": data.name, "note": data.note}))
    if errors:
        raise InvalidInput(errors)
    if endpoint.status == EndpointStatus.REJECTED:
        raise InvalidInput({"name": [_("A rejected endpoint takes no new devices.")]})
    name = _check_device_name(endpoint, data)
    device = Device.objects.create(
        endpoint=endpoint, name=name, terminal_kind=data.terminal_kind,
        vcs_ip=data.vcs_ip or None, note=data.note.strip(), added_by=actor,
    )
    audit.record("endpoint.device_add", device, actor=actor,
                 after=audit.snapshot(device, DEVICE_FIELDS))
    if endpoint.status in ADMITTED and not endpoint.security_check_due:
        endpoint.security_check_due = True  # ĐN Đ16.5: a new terminal is checked before use
        endpoint.save(update_fields=["security_check_due", "updated_at"])
        audit_endpoint("endpoint.update", endpoint, actor, before)
    return device


@transaction.atomic
def remove_device(device: Device, *, actor: User) -> None:
    """Take a device out of its room (it no longer connects)."""
    device = Device.objects.select_for_update().select_related("endpoint__agency").get(
        pk=device.pk
    )
    require(actor, Action.EDIT_ENDPOINT, device.endpoint.agency)
    audit.record("endpoint.device_remove", device, actor=actor,
                 before=audit.snapshot(device, DEVICE_FIELDS))
    device.delete()
