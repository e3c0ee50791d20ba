from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "diemcau.scheduling"
    label = "scheduling"
    verbose_name = _("Meetings and scheduling")

    def ready(self) -> None:
        from diemcau.notifications import kinds
        from diemcau.ui import status

        from . import choices, notices

        status.register("meeting", choices.MeetingStatus, choices.MEETING_STATUS_COLOURS)
        status.register("check", choices.CheckStatus, choices.CHECK_STATUS_COLOURS)
        status.register("incident", choices.IncidentStatus, choices.INCIDENT_STATUS_COLOURS)
        for kind, renderer in notices.RENDERERS.items():
            kinds.register(kind, renderer)
