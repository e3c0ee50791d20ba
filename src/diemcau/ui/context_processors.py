from typing import Any

from django.conf import settings
from django.http import HttpRequest

# Roles whose systems integrate through the API (calendars, dashboards): the menu offers them
# API tokens; technicians and auditors work in the pages.
INTEGRATING_ROLES = frozenset({"admin", "operator", "office"})


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
        # API tokens are for the roles whose systems integrate (calendars, dashboards).
        "nav_may_integrate": bool(user is not None and getattr(user, "is_authenticated", False)
                                  and (user.is_superuser
                                       or getattr(user, "role", "") in INTEGRATING_ROLES)),
        # One colour per status for the pages' scripts (calendar, consoles): `ui.status`.
        "status_palette": status.palette(),
    }
