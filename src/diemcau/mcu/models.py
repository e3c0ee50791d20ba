from __future__ import annotations

import ipaddress
import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .janus_client import JanusAccess


class NodeHealth(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    UP = "up", _("Answering")
    DOWN = "down", _("Not answering")


def validate_sip_address(value: str) -> None:
    """A node's SIP address is an IP address with an optional port: terminals dial it, so it
    must be the node's real address (R24: never loopback)."""
    host, port = split_sip_address(value)
    if not value.strip():
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValidationError(_("Give the node's IP address, e.g. 10.0.0.5:5060.")) from None
    if address.is_loopback or address.is_unspecified:
        raise ValidationError(_("Terminals elsewhere cannot reach %(address)s: give the "
                                "node's real address.") % {"address": host})
    if not 1 <= port <= 65535:
        raise ValidationError(_("The SIP port must be between 1 and 65535."))


def split_sip_address(value: str) -> tuple[str, int]:
    """"10.0.0.5:5060" → ("10.0.0.5", 5060); "10.0.0.5" → ("10.0.0.5", 5060); "" → ("", 5060)."""
    value = value.strip()
    if not value:
        return "", 5060
    if value.count(":") > 1 and not value.startswith("["):  # a bare IPv6 address
        return value, 5060
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit():
        return host.strip("[]"), int(port)
    return value.strip("[]"), 5060


# How many room mixers (composed picture and mixed sound for SIP terminals and the upstream
# link, R24, R25) a node carries unless its operator measured it. `bench/mixer.py` on a
# 2-core Xeon (docs/mixer.md): a 4-input 1280x720@25 mix with one H.264 encode costs about a
# third of one core, twice that with a VP8 encode too (an upstream link in VP8), 60 % with 16
# inputs. One mixer per core leaves Janus and the web their share: `diemcau janus run
# --register` gives a new node one per core of its machine; a node registered by hand
# starts with 4 (a 4-core node).
DEFAULT_MAX_MIXERS = 4


def mixers_for_this_machine() -> int:
    import os

    return max(1, os.cpu_count() or 1)


class McuNode(models.Model):
    """One media-server node of the provincial MCU (a Janus), with its maximum capacity (R11),
    where the backend reaches it, and its health as last polled.

    Secrets are kept here because the backend must send them to Janus; every field holding one
    has "secret" in its name, so audit snapshots leave it out (R22).
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    max_meetings = models.PositiveIntegerField(_("maximum concurrent meetings"))
    max_endpoints = models.PositiveIntegerField(_("maximum connected endpoints"))
    max_mixers = models.PositiveIntegerField(
        _("maximum concurrent mixers"), default=DEFAULT_MAX_MIXERS,
        help_text=_("Meetings with hardware (SIP) terminals or an upstream link at once: each "
                    "needs a mixer of the node. Measure it with bench/mixer.py."),
    )
    # What hardware terminals dial (R24): the node's SIP address, host[:port].
    sip_address = models.CharField(
        _("SIP address"), max_length=100, blank=True,
        validators=[validate_sip_address],
        help_text=_("What terminals dial: the node's address and SIP port, e.g. "
                    "10.0.0.5:5060. Empty: no SIP terminals on this node."),
    )
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

    def mixer_cap(self, cap_percent: float) -> int:
        """Concurrent meetings that need a mixer, under the same cap (KH Đ12.4a: the MCU's
        maximum serving capacity)."""
        return math.floor(Decimal(self.max_mixers) * Decimal(str(cap_percent)) / 100)

    @property
    def sip_host(self) -> str:
        """The host part of `sip_address` ("" when the node takes no SIP terminals)."""
        return split_sip_address(self.sip_address)[0]

    @property
    def sip_port(self) -> int:
        return split_sip_address(self.sip_address)[1]

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
