"""Login throttling with django-axes: one limit per account and another per address (R22).

Axes counts the failed attempts of each lockout parameter (the account's name, the client's
address) but compares every count with one limit. A province's offices often reach the
Internet through one shared address, so that address may fail more often than one account
before it is locked: the address's count is scaled to the account's limit here, so that the
account locks after `LOGIN_FAILURES_PER_ACCOUNT` failures and the address after
`LOGIN_FAILURES_PER_ADDRESS`. A successful sign-in forgets the failures of its own account
only, never those of its address (else one valid account would keep an attack going).
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def _failures(attempts: Any) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


class LoginThrottleHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None
                     ) -> int:
        # AXES_LOCKOUT_PARAMETERS is ["username", "ip_address"]: one queryset each, in order.
        by_account, by_address = (
            _failures(attempts) for attempts in self.get_user_attempts(request, credentials)
        )
        per_account = settings.LOGIN_FAILURES_PER_ACCOUNT
        per_address = settings.LOGIN_FAILURES_PER_ADDRESS
        return max(by_account, by_address * per_account // per_address)

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any
                       ) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        username = get_client_username(request, {"username": user.get_username()})
        AccessAttempt.objects.filter(username=username).delete()


def lockout_parameters(request: Any, credentials: Any = None) -> list[str]:
    return ["username", "ip_address"]
