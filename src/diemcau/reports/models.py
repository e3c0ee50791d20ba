from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from diemcau.directory.models import Agency


class ReportKind(models.TextChoices):
    PERIODIC = "periodic", _("Periodic (by the regulation)")
    ON_DEMAND = "on_demand", _("On demand")


class Report(models.Model):
    """A stored report (R21): the figures of one period and scope as they were when it was
    made, their SHA-256, and the XLSX and PDF made from them. Never changed once written:
    making it again writes a new version beside it (`supersedes`), and both stay."""

    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices)
    period_first = models.DateField(_("from"))
    period_last = models.DateField(_("to"))
    # 6, 12…: a periodic length (ĐN Đ14.4, KH Đ17.2d); 0: a range of days.
    period_months = models.PositiveSmallIntegerField(_("months"), default=0)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="reports",
        verbose_name=_("agency"),
    )
    with_units = models.BooleanField(_("with the units under it"), default=True)
    level = models.CharField(_("level"), max_length=20, blank=True)
    scope_label = models.CharField(_("scope"), max_length=300)
    version = models.PositiveIntegerField(_("version"), default=1)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name=_("earlier version"),
    )
    rulebook = models.CharField(_("rulebook"), max_length=60)
    data = models.JSONField(_("figures"))
    data_sha256 = models.CharField(_("SHA-256 of the figures"), max_length=64)
    xlsx = models.FileField(_("spreadsheet"), upload_to="reports/%Y/", blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    document_number = models.CharField(_("number"), max_length=40, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)

    class Meta:
        ordering = ["-period_first", "-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.CheckConstraint(condition=Q(period_last__gte=models.F("period_first")),
                                   name="report_period_ordered"),
            models.UniqueConstraint(
                fields=["kind", "period_first", "period_last", "agency", "with_units", "level",
                        "version"],
                name="report_unique_version",
            ),
        ]
        indexes = [models.Index(fields=["kind", "period_first", "period_last"],
                                name="report_period")]

    def __str__(self) -> str:
        period = f"{self.period_first:%d/%m/%Y}–{self.period_last:%d/%m/%Y}"
        return f"{self.scope_label} {period} v{self.version}"
