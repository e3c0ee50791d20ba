from __future__ import annotations

import math
from decimal import Decimal

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .janus_client import JanusAccess


class NodeHealth(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    UP = "up", _("Answering")
    DOWN = "down", _("Not answering")


class McuNode(models.Model):
    """One media-server node of the provincial MCU (a Janus), with its maximum capacity (R11),
    where the backend reaches it, and its health as last polled.

    Secrets are kept here because the backend must send them to Janus; every field holding one
    has "secret" in its name, so audit snapshots leave it out (R22).
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    max_meetings = models.PositiveIntegerField(_("maximum concurrent meetings"))
    max_endpoints = models.PositiveIntegerField(_("maximum connected endpoints"))
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    janus_url = models.URLField(
        _("Janus API URL"), blank=True, help_text="http://127.0.0.1:8088/janus"
    )
    admin_url = models.URLField(
        _("Janus admin API URL"), blank=True, help_text="http://127.0.0.1:7088/admin"
    )
    ws_url = models.CharField(
        _("WebSocket URL for browsers"),
        max_length=200,
        blank=True,
        validators=[URLValidator(schemes=["ws", "wss"])],
        help_text="wss://mcu.example.gov.vn/janus-ws",
    )
    api_secret = models.CharField(_("Janus API secret"), max_length=200, blank=True)
    admin_secret = models.CharField(_("admin API secret"), max_length=200, blank=True)
    # The VideoRoom/TextRoom `admin_key`: only the backend may create rooms.
    room_admin_secret = models.CharField(_("room admin key"), max_length=200, blank=True)

    health = models.CharField(
        _("health"), max_length=10, choices=NodeHealth.choices, default=NodeHealth.UNKNOWN
    )
    health_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last answered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "mcu_mcunode"
        ordering = ["name"]
        verbose_name = _("MCU node")
        verbose_name_plural = _("MCU nodes")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_meetings__gte=1) & Q(max_endpoints__gte=1),
                name="mcunode_capacity_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def meeting_cap(self, cap_percent: float) -> int:
        """Concurrent meetings allowed under the rulebook's cap (KH Đ12.4a: 80 %)."""
        return math.floor(Decimal(self.max_meetings) * Decimal(str(cap_percent)) / 100)

    def endpoint_cap(self, cap_percent: float) -> int:
        return math.floor(Decimal(self.max_endpoints) * Decimal(str(cap_percent)) / 100)

    @property
    def is_managed(self) -> bool:
        """Whether the backend knows how to reach this node's Janus."""
        return bool(self.janus_url and self.admin_url)

    def access(self) -> JanusAccess:
        return JanusAccess(
            janus_url=self.janus_url,
            admin_url=self.admin_url,
            api_secret=self.api_secret,
            admin_secret=self.admin_secret,
            admin_key=self.room_admin_secret,
        )
