from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "diemcau.archive"
    label = "archive"
    verbose_name = _("Archive (recordings, handover, materials)")

    def ready(self) -> None:
        from diemcau.media.services import control
        from diemcau.notifications import kinds
        from diemcau.scheduling import meeting_page
        from diemcau.scheduling.services import lifecycle
        from diemcau.ui import status

        from . import notices, views
        from .choices import (
            ACCESS_STATE_COLOURS,
            RECORDING_STATE_COLOURS,
            AccessState,
            RecordingState,
        )
        from .services import recordings

        status.register("recording", RecordingState, RECORDING_STATE_COLOURS)
        status.register("access_request", AccessState, ACCESS_STATE_COLOURS)
        for kind, renderer in notices.RENDERERS.items():
            kinds.register(kind, renderer)
        # The record opens when Janus starts recording; the worker takes over at the end.
        control.on_recording(recordings.recording_switched)
        lifecycle.subscribe(recordings.meeting_changed)
        meeting_page.contribute(views.meeting_panel)
