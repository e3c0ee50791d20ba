from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "diemcau.media"
    label = "media"
    verbose_name = _("Live meetings (rooms, joining, control)")

    def ready(self) -> None:
        from diemcau.mcu import janus_config
        from diemcau.scheduling import meeting_page
        from diemcau.scheduling.services import lifecycle
        from diemcau.ui import status

        from . import agent, views
        from .models import CALL_STATE_COLOURS, QUALITY_COLOURS, CallState, Quality
        from .services import meeting_status

        status.register("quality", Quality, QUALITY_COLOURS)
        status.register("sip_call", CallState, CALL_STATE_COLOURS)
        # The node's Janus gets its SIP plugin for hardware terminals (R24).
        janus_config.extend(agent.janus_sip_files)
        # Rooms and connections follow the meeting's status (the lifecycle's observers).
        lifecycle.subscribe(meeting_status.follow)
        # The meeting page shows the join and console buttons and the attendance.
        meeting_page.contribute(views.meeting_panel)
