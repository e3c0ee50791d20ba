from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "diemcau.archive"
    label = "archive"
    verbose_name = _("Archive (recordings, handover, materials)")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "archive.open": _words("Recording begun"),
            "archive.stop": _words("Recording stopped"),
            "archive.session_ended": _words("Recorded session ended"),
            "archive.collect": _words("Recording files collected"),
            "archive.ready": _words("Recording made into one file"),
            "archive.failed": _words("Recording could not be made"),
            "archive.retry": _words("Recording tried again"),
            "archive.hand_over": _words("Recording handed over"),
            "archive.acknowledge": _words("Handover acknowledged"),
            "archive.handover_warning": _words("Handover deadline warning"),
            "archive.handover_overdue": _words("Handover deadline missed"),
            "archive.link_issue": _words("Download link issued"),
            "archive.download": _words("Recording downloaded"),
            "archive.purge": _words("Recording purged"),
            "archive.material_upload": _words("Material uploaded"),
            "archive.material_remove": _words("Material removed"),
            "archive.access_request": _words("Access to a recording requested"),
            "archive.access_decide": _words("Access request decided"),
        })
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
