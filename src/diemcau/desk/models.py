"""The operations desk: the equipment register and its plans, the duty roster, the line
providers and the incidents sent to them, and the training tasks of new technicians.

Endpoints, contacts, meetings, incidents and MCU nodes are referred to by foreign key only:
their own apps own them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    DeviceKind,
    DeviceWorkKind,
    PatchStatus,
    ProviderKind,
    RouteChannel,
    RouteStatus,
    TaskKind,
)


class LineProvider(models.Model):
    """A party that runs lines to the endpoints: the TSLCD operator, an Internet provider
    (ĐN Đ12.1, Đ17; KH Đ14.2). A line incident is sent to it by e-mail or webhook."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ProviderKind.choices)
    email = models.EmailField(_("incident e-mail address"), blank=True)
    webhook_url = models.URLField(_("incident webhook URL"), blank=True, max_length=500)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("line provider")
        verbose_name_plural = _("line providers")

    def __str__(self) -> str:
        return self.name


class ProviderContact(models.Model):
    """A person of a provider on duty for an area (an agency and its subordinate units; none:
    the whole province)."""

    provider = models.ForeignKey(LineProvider, on_delete=models.CASCADE, related_name="contacts")
    area = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("area"),
    )
    full_name = models.CharField(_("full name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=20)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["provider", "full_name"]
        verbose_name = _("provider contact")
        verbose_name_plural = _("provider contacts")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.provider})"


class EndpointLine(models.Model):
    """The network line of a room and who provides it."""

    endpoint = models.OneToOneField(
        "directory.Endpoint", on_delete=models.CASCADE, related_name="desk_line"
    )
    provider = models.ForeignKey(
        LineProvider, on_delete=models.PROTECT, related_name="lines", verbose_name=_("provider")
    )
    circuit_reference = models.CharField(_("line or contract reference"), max_length=120,
                                         blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("endpoint line")
        verbose_name_plural = _("endpoint lines")

    def __str__(self) -> str:
        return f"{self.endpoint_id} → {self.provider}"


class Device(models.Model):
    """A terminal or peripheral of a room, kept as a public asset (ĐN Đ5.6, Đ16.4; KH Đ5.6,
    Đ19.4)."""

    endpoint = models.ForeignKey(
        "directory.Endpoint", on_delete=models.PROTECT, related_name="desk_devices",
        verbose_name=_("endpoint"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices)
    model = models.CharField(_("model"), max_length=120)
    serial = models.CharField(_("serial number"), max_length=120, blank=True)
    asset_code = models.CharField(_("asset code"), max_length=60, blank=True)
    purchased_on = models.DateField(_("purchased on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    in_service = models.BooleanField(_("in service"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["endpoint__agency__path", "endpoint__name", "kind", "model"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.CheckConstraint(
                condition=Q(warranty_until__isnull=True) | Q(purchased_on__isnull=True)
                | Q(warranty_until__gte=F("purchased_on")),
                name="device_warranty_after_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model}"


class DeviceWork(models.Model):
    """A repair or an upgrade of a device; it sends the room back through the security check
    (ĐN Đ16.5)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="works")
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceWorkKind.choices)
    done_on = models.DateField(_("done on"))
    description = models.TextField(_("what was done"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-done_on", "-recorded_at"]
        verbose_name = _("repair or upgrade")
        verbose_name_plural = _("repairs and upgrades")

    def __str__(self) -> str:
        return f"{self.device_id} {self.kind} {self.done_on}"


class NodeVersions(models.Model):
    """An MCU node's own hardware and software, and whether its patches are applied
    (KH Đ7.2, Đ17.2đ)."""

    node = models.OneToOneField("mcu.McuNode", on_delete=models.CASCADE,
                                related_name="desk_versions")
    hardware = models.CharField(_("hardware"), max_length=200, blank=True)
    operating_system = models.CharField(_("operating system"), max_length=120, blank=True)
    software_version = models.CharField(_("media server version"), max_length=120, blank=True)
    patch_status = models.CharField(_("patch status"), max_length=20,
                                    choices=PatchStatus.choices, default=PatchStatus.CURRENT)
    patched_on = models.DateField(_("last patched on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("MCU node versions")
        verbose_name_plural = _("MCU node versions")

    def __str__(self) -> str:
        return f"{self.node_id} {self.software_version}"


class MaintenancePlan(models.Model):
    """An agency's yearly plan of maintenance and of purchases or rentals of terminals
    (ĐN Đ16.4; KH Đ19.4)."""

    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT,
                               related_name="desk_plans", verbose_name=_("agency"))
    year = models.PositiveSmallIntegerField(_("year"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "agency__path"]
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="desk_plan_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.year}"


class MaintenanceTask(models.Model):
    """One task of a plan: it falls due on a date and is done."""

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("task"), max_length=250)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="tasks", verbose_name=_("device"))
    due_on = models.DateField(_("due on"))
    estimated_cost = models.DecimalField(_("estimated cost (VND)"), max_digits=14,
                                         decimal_places=0, null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")

    class Meta:
        ordering = ["done_on", "due_on", "pk"]
        verbose_name = _("maintenance task")
        verbose_name_plural = _("maintenance tasks")
        constraints = [
            models.CheckConstraint(condition=Q(estimated_cost__isnull=True)
                                   | Q(estimated_cost__gte=0), name="desk_task_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class DutyShift(models.Model):
    """An MCU technician on duty from `starts_at` to `ends_at` (ĐN Đ12.1; KH Đ14.1, Đ17.3)."""

    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="desk_shifts", verbose_name=_("technician"))
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"), db_index=True)
    note = models.CharField(_("note"), max_length=250, blank=True)
    handed_over_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="+")
    handover_note = models.TextField(_("handover note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="desk_shift_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.starts_at:%Y-%m-%d %H:%M}"


class MeetingDuty(models.Model):
    """The MCU technician assigned to one meeting."""

    meeting = models.OneToOneField("scheduling.Meeting", on_delete=models.CASCADE,
                                   related_name="desk_duty")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("technician"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting duty")
        verbose_name_plural = _("meeting duties")

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.technician}"


class DutyGapNotice(models.Model):
    """The operators were told once that no one is on duty when this meeting starts."""

    meeting = models.OneToOneField("scheduling.Meeting", on_delete=models.CASCADE,
                                   related_name="+")
    noticed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.noticed_at:%Y-%m-%d %H:%M}"


class IncidentRoute(models.Model):
    """A line incident sent to the provider of the endpoint's line, and its reply
    (ĐN Đ12.2d; KH Đ13.2b, Đ14.3d)."""

    incident = models.OneToOneField("scheduling.Incident", on_delete=models.CASCADE,
                                    related_name="desk_route")
    provider = models.ForeignKey(LineProvider, on_delete=models.PROTECT, related_name="routes",
                                 verbose_name=_("provider"))
    channel = models.CharField(_("sent by"), max_length=10, choices=RouteChannel.choices)
    address = models.CharField(_("sent to"), max_length=500)
    status = models.CharField(_("status"), max_length=20, choices=RouteStatus.choices,
                              default=RouteStatus.SENT, db_index=True)
    sent_at = models.DateTimeField(_("sent at"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    reply = models.TextField(_("provider's reply"), blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("incident sent to a provider")
        verbose_name_plural = _("incidents sent to providers")

    def __str__(self) -> str:
        return f"{self.incident_id} → {self.provider}"


class TrainingTask(models.Model):
    """A new technician to be trained (ĐN Đ14.8, Đ16.3; KH Đ19.3): shown until done."""

    contact = models.OneToOneField("directory.Contact", on_delete=models.CASCADE,
                                   related_name="desk_training")
    created_at = models.DateTimeField(auto_now_add=True)
    done_on = models.DateField(_("trained on"), null=True, blank=True)
    done_note = models.CharField(_("note"), max_length=250, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")

    class Meta:
        ordering = ["done_on", "-created_at"]
        verbose_name = _("training task")
        verbose_name_plural = _("training tasks")

    def __str__(self) -> str:
        return f"{self.contact_id} {self.done_on or '-'}"
