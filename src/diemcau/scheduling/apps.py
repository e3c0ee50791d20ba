from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "diemcau.scheduling"
    label = "scheduling"
    verbose_name = _("Meetings and scheduling")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "meeting.draft": _words("Meeting saved as a draft"),
            "meeting.update": _words("Draft meeting edited"),
            "meeting.amend": _words("Registration edited before the decision"),
            "meeting.submit": _words("Meeting registration submitted"),
            "meeting.accept": _words("Meeting accepted, code issued"),
            "meeting.refuse": _words("Meeting registration refused"),
            "meeting.cancel": _words("Meeting cancelled"),
            "meeting.revoke": _words("Meeting code revoked"),
            "meeting.start": _words("Meeting session started"),
            "meeting.end": _words("Meeting ended"),
            "meeting.series": _words("Meeting series registered"),
            "meeting.series_decide": _words("Meeting series decided"),
            "meeting.reply_overdue": _words("Reply deadline missed"),
            "meeting.reply_warning": _words("Reply deadline warning"),
            "meeting.upstream_link": _words("Upstream link changed"),
            "check.record": _words("Technical check recorded"),
            "incident.open": _words("Incident reported"),
            "incident.update": _words("Incident updated"),
            "incident.classify": _words("Incident classified"),
            "calendar_feed.create": _words("Calendar feed created"),
            "calendar_feed.revoke": _words("Calendar feed revoked"),
            "meeting.mailed": _words("Registration received by official e-mail"),
            "meeting.mail_ignored": _words("Message to the official mailbox not registered"),
            "official_address.add": _words("Official e-mail address added"),
            "official_address.remove": _words("Official e-mail address removed"),
        })
        from diemcau.notifications import kinds
        from diemcau.ui import status

        from . import choices, notices

        status.register("meeting", choices.MeetingStatus, choices.MEETING_STATUS_COLOURS)
        status.register("check", choices.CheckStatus, choices.CHECK_STATUS_COLOURS)
        status.register("incident", choices.IncidentStatus, choices.INCIDENT_STATUS_COLOURS)
        status.register("mail", choices.MailOutcome, choices.MAIL_OUTCOME_COLOURS)
        for kind, renderer in notices.RENDERERS.items():
            kinds.register(kind, renderer)
        for kind, recipients in notices.RECIPIENTS.items():
            kinds.register_recipients(kind, recipients)
