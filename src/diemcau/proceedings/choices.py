from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemState(models.TextChoices):
    """Where an agenda item stands in the session."""

    PENDING = "pending", _("To come")
    CURRENT = "current", _("Under way")
    DONE = "done", _("Done")


ITEM_STATE_COLOURS = {
    ItemState.PENDING: "secondary",
    ItemState.CURRENT: "primary",
    ItemState.DONE: "success",
}


class ClosingParty(models.TextChoices):
    """Who ticks a closing item (the rulebook's `closing.items[].by`)."""

    ENDPOINT = "endpoint", _("Endpoint")
    OPERATOR = "operator", _("MCU operator")
