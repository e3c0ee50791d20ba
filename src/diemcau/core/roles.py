"""Roles of users (R22: least privilege by role and agency)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("System administrator")
    OPERATOR = "operator", _("MCU operator")
    OFFICE = "office", _("Agency office")
    TECHNICIAN = "technician", _("Endpoint technician")
    AUDITOR = "auditor", _("Auditor")


# Roles whose work covers the whole province rather than one agency.
PROVINCE_WIDE_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})
