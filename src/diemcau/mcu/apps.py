from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class McuConfig(AppConfig):
    """The MCU as a resource: its nodes, their capacity and health, and the Janus client.
    Booking (`scheduling`) counts their capacity; the live plane (`media`) drives them."""

    name = "diemcau.mcu"
    label = "mcu"
    verbose_name = _("MCU nodes")

    def ready(self) -> None:
        from diemcau.notifications import kinds

        from .services import render_node_health

        kinds.register("mcu.node_down", render_node_health)
        kinds.register("mcu.node_up", render_node_health)
