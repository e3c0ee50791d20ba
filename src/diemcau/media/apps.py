from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "diemcau.media"
    label = "media"
    verbose_name = _("Live meetings (rooms, joining, control)")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "live.join": _words("Endpoint joined the room"),
            "live.leave": _words("Endpoint left the room"),
            "live.grant": _words("Entry to the room granted"),
            "live.mute": _words("Microphone muted"),
            "live.mute_all": _words("Every microphone muted"),
            "live.give_floor": _words("Floor given"),
            "live.mute_self": _words("Endpoint closed its own microphone"),
            "live.unmute_self": _words("Endpoint opened its own microphone"),
            "live.yield_floor": _words("Floor given back by the endpoint"),
            "live.raise_hand": _words("Hand raised"),
            "live.lower_hand": _words("Hand lowered"),
            "live.spotlight": _words("Main picture chosen"),
            "live.lock": _words("Room locked"),
            "live.unlock": _words("Room unlocked"),
            "live.kick": _words("Endpoint removed from the room"),
            "live.replaced": _words("Connection replaced by a newer one"),
            "live.layout": _words("Picture layout chosen"),
            "live.record_start": _words("Recording started"),
            "live.record_stop": _words("Recording stopped"),
            "live.escalate": _words("Problem passed to the operator"),
            "live.quality": _words("Line quality recorded"),
            "live.attendees": _words("Attendee count given"),
            "join_link.issue": _words("Join link issued"),
            "join_link.revoke": _words("Join link revoked"),
            "room.create": _words("Room created on the MCU"),
            "room.destroy": _words("Room removed from the MCU"),
            "room.recreate": _words("Room made again on the MCU"),
            "room.destroy_orphan": _words("Unknown room removed from the MCU"),
            "sip.call": _words("Hardware terminal called"),
            "sip.call_upstream": _words("Upstream MCU called"),
            "sip.test_upstream": _words("Upstream link test started"),
            "sip.link_test": _words("Upstream link test result"),
            "sip.dial_in": _words("Dial-in admitted"),
            "sip.refuse": _words("Dial-in refused"),
            "sip.calling": _words("Call dialling"),
            "sip.ringing": _words("Call ringing"),
            "sip.answered": _words("Call answered"),
            "sip.hangup": _words("Call hung up"),
            "sip.ended": _words("Call ended"),
        })
        from diemcau.mcu import janus_config
        from diemcau.scheduling import meeting_page
        from diemcau.scheduling.services import lifecycle
        from diemcau.ui import status

        from . import agent, views
        from .models import (
            CALL_STATE_COLOURS,
            PRESENCE_COLOURS,
            QUALITY_COLOURS,
            CallState,
            Presence,
            Quality,
        )
        from .services import meeting_status

        status.register("quality", Quality, QUALITY_COLOURS)
        status.register("sip_call", CallState, CALL_STATE_COLOURS)
        status.register("presence", Presence, PRESENCE_COLOURS)
        # The node's Janus gets its SIP plugin for hardware terminals (R24).
        janus_config.extend(agent.janus_sip_files)
        # Rooms and connections follow the meeting's status (the lifecycle's observers).
        lifecycle.subscribe(meeting_status.follow)
        # The meeting page shows the join and console buttons and the attendance.
        meeting_page.contribute(views.meeting_panel)
        # The dashboard and the meeting list show "Vào họp" on a meeting on now.
        meeting_page.contribute_live_entries(views.live_entries)
