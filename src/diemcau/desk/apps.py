from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "diemcau.desk"
    label = "desk"
    verbose_name = _("Operations desk")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels
        from diemcau.directory.services.contacts import on_contact_set
        from diemcau.media import console_panels
        from diemcau.notifications import kinds
        from diemcau.scheduling import meeting_page
        from diemcau.ui import status

        from . import choices, notices, panels
        from .services.training import open_training_on_change

        audit_labels.register({
            "desk.device_add": _words("Device added to the register"),
            "desk.device_update": _words("Device edited in the register"),
            "desk.device_work": _words("Repair or upgrade recorded"),
            "desk.line_set": _words("Endpoint's line and provider set"),
            "desk.node_versions": _words("MCU node versions recorded"),
            "desk.plan_create": _words("Maintenance plan created"),
            "desk.task_add": _words("Maintenance task added"),
            "desk.task_done": _words("Maintenance task done"),
            "desk.shift_add": _words("Duty shift added"),
            "desk.shift_handover": _words("Duty shift handed over"),
            "desk.meeting_assign": _words("Technician assigned to a meeting"),
            "desk.duty_gap": _words("Meeting without anyone on duty flagged"),
            "desk.provider_save": _words("Line provider saved"),
            "desk.provider_contact": _words("Line provider contact saved"),
            "desk.route": _words("Incident sent to the line provider"),
            "desk.route_reply": _words("Line provider's reply recorded"),
            "desk.training_open": _words("Training task opened"),
            "desk.training_done": _words("Training done"),
        })
        status.register("patch", choices.PatchStatus, choices.PATCH_STATUS_COLOURS)
        status.register("route", choices.RouteStatus, choices.ROUTE_STATUS_COLOURS)
        for kind, renderer in notices.RENDERERS.items():
            kinds.register(kind, renderer)
        on_contact_set(open_training_on_change)
        meeting_page.contribute(panels.meeting_panel)
        console_panels.contribute(panels.console_panel)
