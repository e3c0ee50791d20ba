"""The equipment register: devices as public assets, their repairs and upgrades, the room's
line, the MCU nodes' versions, and the yearly maintenance and procurement plans
(ĐN Đ5.6, Đ16.4, Đ16.5; KH Đ5.6, Đ7.2, Đ16.4, Đ17.2đ, Đ19.4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.services import report_repair
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook

from ..choices import DeviceKind, DeviceWorkKind, PatchStatus, TaskKind
from ..models import (
    Device,
    DeviceWork,
    EndpointLine,
    LineProvider,
    MaintenancePlan,
    MaintenanceTask,
    NodeVersions,
)
from ._common import check_text

DEVICE_FIELDS = ["endpoint_id", "kind", "model", "serial", "asset_code", "purchased_on",
                 "warranty_until", "in_service", "notes"]


@dataclass
class DeviceInput:
    kind: str
    model: str
    serial: str = ""
    asset_code: str = ""
    purchased_on: dt.date | None = None
    warranty_until: dt.date | None = None
    in_service: bool = True
    notes: str = ""


def _validate_device(data: DeviceInput) -> None:
    errors: dict[str, list[str]] = {}
    if data.kind not in DeviceKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if data.purchased_on and data.purchased_on > timezone.localdate():
        errors["purchased_on"] = [_("The purchase date cannot be in the future.")]
    if data.purchased_on and data.warranty_until and data.warranty_until < data.purchased_on:
        errors["warranty_until"] = [_("The warranty cannot end before the purchase.")]
    check_text(
        {"model": data.model},
        limits={"model": (data.model, 120), "serial": (data.serial, 120),
                "asset_code": (data.asset_code, 60)},
        dates={"purchased_on": data.purchased_on, "warranty_until": data.warranty_until},
        errors=errors,
    )


def _apply(device: Device, data: DeviceInput) -> None:
    device.kind = data.kind
    device.model = data.model.strip()
    device.serial = data.serial.strip()
    device.asset_code = data.asset_code.strip()
    device.purchased_on = data.purchased_on
    device.warranty_until = data.warranty_until
    device.in_service = data.in_service
    device.notes = data.notes.strip()


@transaction.atomic
def add_device(endpoint: Endpoint, data: DeviceInput, *, actor: User) -> Device:
    """Enter a terminal or peripheral of a room in the register of public assets."""
    endpoint = Endpoint.objects.select_related("agency").get(pk=endpoint.pk)
    require(actor, Action.MANAGE_EQUIPMENT, endpoint.agency)
    _validate_device(data)
    device = Device(endpoint=endpoint)
    _apply(device, data)
    device.save()
    audit.record("desk.device_add", device, actor=actor,
                 after=audit.snapshot(device, DEVICE_FIELDS))
    return device


@transaction.atomic
def update_device(device: Device, data: DeviceInput, *, actor: User) -> Device:
    device = Device.objects.select_for_update().select_related("endpoint__agency").get(
        pk=device.pk)
    require(actor, Action.MANAGE_EQUIPMENT, device.endpoint.agency)
    _validate_device(data)
    before = audit.snapshot(device, DEVICE_FIELDS)
    _apply(device, data)
    device.save()
    audit.record("desk.device_update", device, actor=actor, before=before,
                 after=audit.snapshot(device, DEVICE_FIELDS))
    return device


def recheck_required() -> bool:
    """Does the rulebook send a repaired or upgraded device back to the police check?"""
    check = active_rulebook().security_check
    return check.required and "repaired" in check.triggers


@transaction.atomic
def record_device_work(
    device: Device, *, kind: str, done_on: dt.date, description: str, actor: User
) -> DeviceWork:
    """A repair or upgrade of a device. Where the rulebook asks (ĐN Đ16.5), the room goes
    back through the police check: the directory's `report_repair` marks the check due."""
    device = Device.objects.select_related("endpoint__agency").get(pk=device.pk)
    require(actor, Action.MANAGE_EQUIPMENT, device.endpoint.agency)
    errors: dict[str, list[str]] = {}
    if kind not in DeviceWorkKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if done_on > timezone.localdate():
        errors["done_on"] = [_("The date cannot be in the future.")]
    check_text({"description": description}, limits={"description": (description, 2000)},
               dates={"done_on": done_on}, errors=errors)
    work = DeviceWork.objects.create(device=device, kind=kind, done_on=done_on,
                                     description=description.strip(), recorded_by=actor)
    audit.record("desk.device_work", work, actor=actor, after=audit.snapshot(work))
    if recheck_required():
        report_repair(
            device.endpoint,
            note=_("%(kind)s of %(device)s on %(day)s: %(what)s") % {
                "kind": work.get_kind_display(), "device": str(device),
                "day": done_on.strftime("%d/%m/%Y"), "what": work.description,
            },
            actor=actor,
        )
    return work


@transaction.atomic
def set_line(
    endpoint: Endpoint, *, provider: LineProvider, circuit_reference: str = "", actor: User
) -> EndpointLine:
    """Say who provides the room's network line, so a line incident reaches them."""
    endpoint = Endpoint.objects.select_related("agency").get(pk=endpoint.pk)
    require(actor, Action.MANAGE_EQUIPMENT, endpoint.agency)
    if not provider.is_active:
        raise InvalidInput({"provider": [_("This provider is no longer active.")]})
    check_text(limits={"circuit_reference": (circuit_reference, 120)})
    line = EndpointLine.objects.filter(endpoint=endpoint).first()
    before = audit.snapshot(line) if line else None
    line = line or EndpointLine(endpoint=endpoint)
    line.provider = provider
    line.circuit_reference = circuit_reference.strip()
    line.save()
    audit.record("desk.line_set", line, actor=actor, before=before, after=audit.snapshot(line))
    return line


@dataclass
class NodeVersionsInput:
    hardware: str = ""
    operating_system: str = ""
    software_version: str = ""
    patch_status: str = PatchStatus.CURRENT
    patched_on: dt.date | None = None
    notes: str = ""


@transaction.atomic
def record_node_versions(node: McuNode, data: NodeVersionsInput, *, actor: User) -> NodeVersions:
    """The MCU node's hardware and software and whether its patches are applied (KH Đ7.2)."""
    require(actor, Action.MANAGE_MCU)
    errors: dict[str, list[str]] = {}
    if data.patch_status not in PatchStatus.values:
        errors["patch_status"] = [_("Choose a valid status.")]
    if data.patched_on and data.patched_on > timezone.localdate():
        errors["patched_on"] = [_("The date cannot be in the future.")]
    check_text(limits={"hardware": (data.hardware, 200),
                       "operating_system": (data.operating_system, 120),
                       "software_version": (data.software_version, 120)},
               dates={"patched_on": data.patched_on}, errors=errors)
    versions = NodeVersions.objects.select_for_update().filter(node=node).first()
    before = audit.snapshot(versions) if versions else None
    versions = versions or NodeVersions(node=node)
    versions.hardware = data.hardware.strip()
    versions.operating_system = data.operating_system.strip()
    versions.software_version = data.software_version.strip()
    versions.patch_status = data.patch_status
    versions.patched_on = data.patched_on
    versions.notes = data.notes.strip()
    versions.save()
    audit.record("desk.node_versions", versions, actor=actor, before=before,
                 after=audit.snapshot(versions))
    return versions


# ---------------------------------------------------------------- yearly plans


@transaction.atomic
def create_plan(agency: Agency, *, year: int, note: str = "", actor: User) -> MaintenancePlan:
    """An agency's maintenance and procurement plan of one year (ĐN Đ16.4; KH Đ19.4)."""
    require(actor, Action.MANAGE_EQUIPMENT, agency)
    this_year = timezone.localdate().year
    if not this_year - 1 <= year <= this_year + 5:
        raise InvalidInput({"year": [_("Choose a year between %(a)s and %(b)s.")
                                     % {"a": this_year - 1, "b": this_year + 5}]})
    if MaintenancePlan.objects.filter(agency=agency, year=year).exists():
        raise InvalidInput({"year": [_("This agency already has a plan for that year.")]})
    plan = MaintenancePlan.objects.create(agency=agency, year=year, note=note.strip(),
                                          created_by=actor)
    audit.record("desk.plan_create", plan, actor=actor, after=audit.snapshot(plan))
    return plan


@dataclass
class TaskInput:
    kind: str
    title: str
    due_on: dt.date
    device_id: int | None = None
    estimated_cost: Decimal | None = None


@transaction.atomic
def add_task(plan: MaintenancePlan, data: TaskInput, *, actor: User) -> MaintenanceTask:
    plan = MaintenancePlan.objects.select_related("agency").get(pk=plan.pk)
    require(actor, Action.MANAGE_EQUIPMENT, plan.agency)
    errors: dict[str, list[str]] = {}
    if data.kind not in TaskKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if data.due_on.year != plan.year:
        errors["due_on"] = [_("The task must fall due in the plan's year (%(year)s).")
                            % {"year": plan.year}]
    if data.estimated_cost is not None and data.estimated_cost < 0:
        errors["estimated_cost"] = [_("The cost cannot be negative.")]
    device = None
    if data.device_id is not None:
        device = Device.objects.filter(
            pk=data.device_id, endpoint__agency__path__startswith=plan.agency.path).first()
        if device is None:
            errors["device"] = [_("This device is not one of the agency's.")]
    check_text({"title": data.title}, limits={"title": (data.title, 250)},
               dates={"due_on": data.due_on}, errors=errors)
    task = MaintenanceTask.objects.create(
        plan=plan, kind=data.kind, title=data.title.strip(), device=device, due_on=data.due_on,
        estimated_cost=data.estimated_cost)
    audit.record("desk.task_add", task, actor=actor, after=audit.snapshot(task))
    return task


@transaction.atomic
def complete_task(
    task: MaintenanceTask, *, done_on: dt.date, note: str = "", actor: User
) -> MaintenanceTask:
    task = MaintenanceTask.objects.select_for_update().select_related("plan__agency").get(
        pk=task.pk)
    require(actor, Action.MANAGE_EQUIPMENT, task.plan.agency)
    if task.done_on is not None:
        raise InvalidTransition(_("This task is already done."))
    errors: dict[str, list[str]] = {}
    if done_on > timezone.localdate():
        errors["done_on"] = [_("The date cannot be in the future.")]
    check_text(limits={"note": (note, 2000)}, dates={"done_on": done_on}, errors=errors)
    before = audit.snapshot(task)
    task.done_on, task.done_note, task.done_by = done_on, note.strip(), actor
    task.save()
    audit.record("desk.task_done", task, actor=actor, before=before, after=audit.snapshot(task))
    return task
