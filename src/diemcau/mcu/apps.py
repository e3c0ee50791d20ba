from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class McuConfig(AppConfig):
    """The MCU as a resource: its nodes, their capacity and health, and the Janus client.
    Booking (`scheduling`) counts their capacity; the live plane (`media`) drives them."""

    name = "diemcau.mcu"
    label = "mcu"
    verbose_name = _("MCU nodes")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "mcu.node_register": _words("MCU node registered"),
            "mcu.node_update": _words("MCU node changed"),
            "mcu.node_down": _words("MCU node stopped answering"),
            "mcu.node_up": _words("MCU node answers again"),
        })
        from diemcau.notifications import kinds

        from .services import render_node_health

        kinds.register("mcu.node_down", render_node_health)
        kinds.register("mcu.node_up", render_node_health)
