from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import PROVINCE_WIDE_ROLES, Role


class User(AbstractUser):
    """A person who signs in. Belongs to one agency; what they see is scoped to it (R22)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.TECHNICIAN)
    agency = models.ForeignKey(
        "directory.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # The language of the messages the system sends this person (e-mail, webhook), chosen on
    # the notification settings page; pages follow the language switcher.
    language = models.CharField(
        _("language of messages"), max_length=8, choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_province_wide(self) -> bool:
        return self.role in PROVINCE_WIDE_ROLES


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (R22).

    Rows are never updated or deleted: database triggers refuse it, and each row's hash covers
    the previous row's hash in its chain, so `diemcau audit verify` finds any edit made behind
    our back. `seq` numbers every event in the order they were linked (the order the log is
    read in); the events are spread over `settings.AUDIT_CHAINS` independent chains (`chain`,
    and the event's place in it, `chain_seq`), so that audited commits do not all wait for
    one head (core.audit).
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    chain = models.PositiveSmallIntegerField(default=0)
    chain_seq = models.PositiveBigIntegerField(default=0)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True
    )
    actor_username = models.CharField(_("actor name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="core_auditevent_place"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    """The head of one chain (chain c: the row whose pk is c + 1), which writers lock to
    append to that chain in order; `seq` is the chain's count of events."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class ApiToken(models.Model):
    """A token for integrations; it acts with its user's role and scope. Only a hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
