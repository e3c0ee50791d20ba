from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _

from .request_context import acting_from


def request_address(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is trivially forged unless a proxy we trust sets it.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_from(request_address(request)):
            return self.get_response(request)


class VietnameseFirstMiddleware:
    """Pages speak Vietnamese unless the user chose English with the language switcher.

    Browsers in Vietnamese offices often announce English; following that header would turn
    the UI English for people who never asked. The API keeps honouring Accept-Language, so
    integrations can ask for English messages. Runs before LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def nul_message() -> str:
    return _("Text may not contain the NUL character (U+0000).")


def _has_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in values)
               for key, values in data.lists())


class RefuseNulMiddleware:
    """Pages refuse a NUL character (U+0000) in the query string or a form with 400 and a
    message: PostgreSQL cannot store it in text, and no one types it. (The API refuses it
    field by field in its own parser, `core.api_errors`.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            in_form = request.method == "POST" and request.content_type in FORM_TYPES
            if _has_nul(request.GET) or (in_form and _has_nul(request.POST)):
                raise BadRequest(nul_message())
        return self.get_response(request)
