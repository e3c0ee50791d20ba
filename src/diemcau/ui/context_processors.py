from typing import Any

from django.conf import settings
from django.http import HttpRequest


def diemcau(request: HttpRequest) -> dict[str, Any]:
    from diemcau.core.permissions import Action, role_allows
    from diemcau.rulebooks import active_rulebook

    from . import status

    rulebook = active_rulebook()
    user = getattr(request, "user", None)
    return {
        "rulebook": rulebook,
        "province_name": rulebook.province_name,
        "debug": settings.DEBUG,
        # What the navigation bar offers; each page checks again for itself.
        "nav_may_view_audit": role_allows(user, Action.VIEW_AUDIT),
        # One colour per status for the pages' scripts (calendar, consoles): `ui.status`.
        "status_palette": status.palette(),
    }
