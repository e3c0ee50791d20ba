"""Rules of a meeting that several places must apply alike: one predicate each, asked by the
services, the pages and the API, so they can never disagree. Each returns the refusal (with
its article) or None."""

from __future__ import annotations

from django.utils.translation import gettext as _

from diemcau.core.errors import RuleViolation
from diemcau.directory.choices import Network, TerminalKind
from diemcau.directory.models import Endpoint
from diemcau.rulebooks import active_rulebook

from .choices import Classification
from .models import Meeting


def personal_internet_refusal(classification: str, endpoint: Endpoint, *,
                              field: str = "endpoint") -> RuleViolation | None:
    """R20: a meeting with state secrets takes no personal device over the Internet — neither
    when it is registered nor when the device tries to join."""
    rulebook = active_rulebook()
    secrecy = rulebook.secrecy
    if (
        classification == Classification.STATE_SECRET
        and secrecy.state_secret_refuses_personal_internet
        and endpoint.terminal_kind == TerminalKind.PERSONAL
        and endpoint.network == Network.INTERNET
    ):
        return RuleViolation(
            code="state_secret_personal_internet",
            article=rulebook.cite(secrecy.article),
            message=_(
                "%(endpoint)s is a personal device on the Internet: not allowed in a "
                "state-secret meeting."
            )
            % {"endpoint": endpoint.name},
            field=field,
        )
    return None


def recording_refusal(meeting: Meeting) -> RuleViolation | None:
    """Why the meeting may not be recorded, if it may not (R20)."""
    rulebook = active_rulebook()
    secrecy = rulebook.secrecy
    if secrecy.recording_needs_host_permission and not meeting.recording_requested:
        return RuleViolation(
            code="recording_not_requested",
            article=rulebook.cite(secrecy.article),
            message=_("The host did not ask for this meeting to be recorded."),
        )
    if (meeting.classification == Classification.STATE_SECRET
            and not secrecy.state_secret_allows_recording):
        return RuleViolation(
            code="recording_state_secret",
            article=rulebook.cite(secrecy.article),
            message=_("A meeting with state secrets is not recorded."),
        )
    return None
