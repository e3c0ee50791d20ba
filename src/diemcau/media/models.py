from __future__ import annotations

import math
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class McuNode(models.Model):
    """One media-server node of the provincial MCU, with its maximum capacity (R11)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    max_meetings = models.PositiveIntegerField(_("maximum concurrent meetings"))
    max_endpoints = models.PositiveIntegerField(_("maximum connected endpoints"))
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
