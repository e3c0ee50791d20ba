"""Closed vocabularies of the operations desk."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    TERMINAL = "terminal", _("Conference terminal (codec)")
    CAMERA = "camera", _("Camera")
    MICROPHONE = "microphone", _("Microphone")
    SPEAKER = "speaker", _("Loudspeaker")
    DISPLAY = "display", _("Display or projector")
    COMPUTER = "computer", _("Computer")
    NETWORK = "network", _("Network device")
    POWER = "power", _("Power supply (UPS)")
    OTHER = "other", _("Other device")


class DeviceWorkKind(models.TextChoices):
    REPAIR = "repair", _("Repair")
    UPGRADE = "upgrade", _("Upgrade")


class PatchStatus(models.TextChoices):
    CURRENT = "current", _("Up to date")
    PENDING = "pending", _("Patch waiting to be applied")
    OUTDATED = "outdated", _("Out of support")


PATCH_STATUS_COLOURS = {
    PatchStatus.CURRENT: "success",
    PatchStatus.PENDING: "warning",
    PatchStatus.OUTDATED: "danger",
}


class TaskKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    PROCUREMENT = "procurement", _("Purchase")
    RENTAL = "rental", _("Rental")
    UPGRADE = "upgrade", _("Upgrade")


class ProviderKind(models.TextChoices):
    TSLCD = "tslcd", _("Operator of the government data network (TSLCD)")
    INTERNET = "internet", _("Internet provider")
    OTHER = "other", _("Other line provider")


class RouteChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class RouteStatus(models.TextChoices):
    SENT = "sent", _("Sent to the provider")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the provider")
    RESOLVED = "resolved", _("Resolved by the provider")


ROUTE_STATUS_COLOURS = {
    RouteStatus.SENT: "warning",
    RouteStatus.ACKNOWLEDGED: "info",
    RouteStatus.RESOLVED: "success",
}
