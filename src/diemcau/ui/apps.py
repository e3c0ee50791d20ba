from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UiConfig(AppConfig):
    """The UI toolkit under every app's pages: the base layout, form widgets, pagination,
    status colours and the one path from a service's refusal to a page (`call_service`).
    It knows no domain app; they register their statuses with it (`ui.status`)."""

    name = "diemcau.ui"
    label = "ui"
    verbose_name = _("User interface toolkit")
