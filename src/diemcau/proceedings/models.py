from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from diemcau.directory.models import Endpoint
from diemcau.scheduling.models import Meeting

from .choices import ItemState


class AgendaItem(models.Model):
    """One item of the session's script (kịch bản phiên họp, ĐN Đ12.2a, KH Đ14.3a): what is
    discussed, who speaks, in the speaking order. The host console follows it: the item under
    way is shown to the participants, and moving on offers the floor to its speaker."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("order"))
    title = models.CharField(_("item"), max_length=250)
    speaker = models.ForeignKey(
        Endpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("speaking endpoint"),
    )
    speaker_name = models.CharField(_("speaker"), max_length=160, blank=True)
    minutes = models.PositiveSmallIntegerField(_("planned minutes"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=ItemState.choices,
                             default=ItemState.PENDING)
    started_at = models.DateTimeField(_("begun at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            # One item under way at a time.
            models.UniqueConstraint(fields=["meeting"], condition=Q(state=ItemState.CURRENT),
                                    name="agendaitem_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class ClosingTick(models.Model):
    """One closing item ticked after the session (ĐN Đ13.1, KH Đ15.1): by an endpoint of the
    meeting (`endpoint` set) or by the MCU operator (`endpoint` empty). The items themselves
    are the rulebook's (`closing.items`); an item without its tick is still open."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="closing_ticks")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    item = models.CharField(_("item"), max_length=40)
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    ticked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    ticked_at = models.DateTimeField(_("ticked at"))

    class Meta:
        ordering = ["meeting", "endpoint", "item"]
        verbose_name = _("closing tick")
        verbose_name_plural = _("closing ticks")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "endpoint", "item"],
                                    condition=Q(endpoint__isnull=False),
                                    name="closingtick_endpoint_once"),
            models.UniqueConstraint(fields=["meeting", "item"],
                                    condition=Q(endpoint__isnull=True),
                                    name="closingtick_operator_once"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.endpoint_id or 'operator'}/{self.item}"
