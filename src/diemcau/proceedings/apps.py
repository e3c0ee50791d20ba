from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceedingsConfig(AppConfig):
    name = "diemcau.proceedings"
    label = "proceedings"
    verbose_name = _("Proceedings (session scripts, closing checklists)")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "script.item_add": _words("Agenda item added"),
            "script.item_update": _words("Agenda item changed"),
            "script.item_remove": _words("Agenda item removed"),
            "script.item_move": _words("Agenda item moved"),
            "script.item_start": _words("Agenda item begun"),
            "script.finish": _words("Agenda finished"),
            "closing.tick": _words("Closing item ticked"),
            "closing.untick": _words("Closing item ticked off again"),
        })
        from diemcau.media import extensions
        from diemcau.notifications import kinds
        from diemcau.scheduling import meeting_page
        from diemcau.scheduling.services import lifecycle
        from diemcau.ui import status

        from . import notices, views
        from .choices import ITEM_STATE_COLOURS, ItemState

        status.register("agenda_item", ItemState, ITEM_STATE_COLOURS)
        extensions.contribute_state("script", views.console_state)
        extensions.contribute_participant_state("script", views.participant_state)
        extensions.contribute_action("script_next", views.console_next)
        extensions.contribute_action("script_start", views.console_start)
        extensions.contribute_panel(views.console_panel)
        extensions.contribute_panel(views.room_panel, console=False, room=True)
        meeting_page.contribute(views.meeting_panel)
        kinds.register(notices.CLOSING_DUE, notices.render_closing_due)
        lifecycle.subscribe(notices.meeting_changed)
