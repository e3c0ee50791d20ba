from typing import Any

from django.conf import settings
from django.http import HttpRequest


def diemcau(request: HttpRequest) -> dict[str, Any]:
    from diemcau.rulebooks import active_rulebook

    rulebook = active_rulebook()
    return {
        "rulebook": rulebook,
        "province_name": rulebook.province_name,
        "debug": settings.DEBUG,
    }
