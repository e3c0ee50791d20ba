"""Schemas of the desk's API. Field names are the services' names, so an error located at
["body", "<field>"] points at what the client sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import AwareDatetime

from diemcau.core.api_inputs import Id

from .choices import DeviceKind, DeviceWorkKind, PatchStatus, ProviderKind, TaskKind


class EquipmentIn(Schema):
    kind: DeviceKind
    model: str = Field(max_length=120)
    serial: str = Field("", max_length=120)
    asset_code: str = Field("", max_length=60)
    purchased_on: dt.date | None = None
    warranty_until: dt.date | None = None
    in_service: bool = True
    notes: str = Field("", max_length=2000)


class EquipmentOut(Schema):
    id: int
    endpoint: int = Field(alias="endpoint_id")
    kind: str
    model: str
    serial: str
    asset_code: str
    purchased_on: dt.date | None
    warranty_until: dt.date | None
    in_service: bool


class DeviceWorkIn(Schema):
    kind: DeviceWorkKind
    done_on: dt.date
    description: str = Field(max_length=2000)


class DeviceWorkOut(Schema):
    id: int
    device: int = Field(alias="device_id")
    kind: str
    done_on: dt.date
    description: str
    security_check_due: bool = Field(description="The room must pass the police check again")


class LineIn(Schema):
    provider: Id
    circuit_reference: str = Field("", max_length=120)


class LineOut(Schema):
    endpoint: int = Field(alias="endpoint_id")
    provider: int = Field(alias="provider_id")
    circuit_reference: str


class NodeVersionsIn(Schema):
    hardware: str = Field("", max_length=200)
    operating_system: str = Field("", max_length=120)
    software_version: str = Field("", max_length=120)
    patch_status: PatchStatus = PatchStatus.CURRENT
    patched_on: dt.date | None = None
    notes: str = Field("", max_length=2000)


class NodeVersionsOut(Schema):
    node: int = Field(alias="node_id")
    hardware: str
    operating_system: str
    software_version: str
    patch_status: str
    patched_on: dt.date | None


class PlanIn(Schema):
    agency: Id
    year: int = Field(ge=2000, le=2100)
    note: str = Field("", max_length=2000)


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    device: int | None = Field(alias="device_id")
    due_on: dt.date
    estimated_cost: Decimal | None
    done_on: dt.date | None
    done_note: str


class MaintenancePlanOut(Schema):
    id: int
    agency: int = Field(alias="agency_id")
    year: int
    note: str
    tasks: list[TaskOut]

    @staticmethod
    def resolve_tasks(obj: object) -> list[object]:
        return list(obj.tasks.all())  # type: ignore[attr-defined]


class TaskIn(Schema):
    kind: TaskKind
    title: str = Field(max_length=250)
    due_on: dt.date
    device: Id | None = None
    estimated_cost: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=0)


class DoneIn(Schema):
    done_on: dt.date
    note: str = Field("", max_length=250)


class ShiftIn(Schema):
    technician: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: str = Field("", max_length=250)


class ShiftOut(Schema):
    id: int
    technician: int = Field(alias="technician_id")
    technician_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str
    handed_over_from: int | None = Field(alias="handed_over_from_id")
    handover_note: str

    @staticmethod
    def resolve_technician_name(obj: object) -> str:
        user = obj.technician  # type: ignore[attr-defined]
        return str(user.get_full_name() or user.get_username())


class HandoverIn(Schema):
    technician: Id
    note: str = Field(max_length=2000)


class AssignIn(Schema):
    technician: Id


class MeetingDutyOut(Schema):
    meeting: int
    technician: int | None
    technician_name: str
    assigned: bool = Field(description="Named for the meeting; else on duty at its start")


class ProviderIn(Schema):
    name: str = Field(max_length=200)
    kind: ProviderKind
    email: str = Field("", max_length=254)
    webhook_url: str = Field("", max_length=500)
    is_active: bool = True


class ProviderContactOut(Schema):
    id: int
    area: int | None = Field(alias="area_id")
    full_name: str
    phone: str
    email: str


class ProviderOut(Schema):
    id: int
    name: str
    kind: str
    email: str
    webhook_url: str
    is_active: bool
    contacts: list[ProviderContactOut]

    @staticmethod
    def resolve_contacts(obj: object) -> list[object]:
        return list(obj.contacts.all())  # type: ignore[attr-defined]


class ProviderContactIn(Schema):
    area: Id | None = Field(None, description="An agency; none: the whole province")
    full_name: str = Field(max_length=120)
    phone: str = Field(max_length=20)
    email: str = Field("", max_length=254)


class RouteOut(Schema):
    id: int
    incident: int = Field(alias="incident_id")
    provider: int = Field(alias="provider_id")
    channel: str
    status: str
    sent_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    reply: str


class ReplyIn(Schema):
    status: str = Field(description="acknowledged or resolved")
    reply: str = Field("", max_length=5000)


class PartyTimesOut(Schema):
    party: str
    incidents: int
    acknowledged: int
    resolved: int
    mean_ack_minutes: float | None
    mean_resolve_minutes: float | None


class PersonOut(Schema):
    full_name: str
    phone: str
    email: str
    trained_on: dt.date | None


class ContactRowOut(Schema):
    endpoint: int
    endpoint_name: str
    agency: str
    location: str
    leader: PersonOut | None
    technician: PersonOut | None
    training_open: bool


class TrainingOut(Schema):
    id: int
    contact: int = Field(alias="contact_id")
    full_name: str
    endpoint: str
    created_at: dt.datetime
    done_on: dt.date | None

    @staticmethod
    def resolve_full_name(obj: object) -> str:
        return str(obj.contact.full_name)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_endpoint(obj: object) -> str:
        return str(obj.contact.endpoint.name)  # type: ignore[attr-defined]
