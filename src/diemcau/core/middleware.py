from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from .request_context import acting_from
from .text import nfc


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


# Form bodies the middleware reads; JSON bodies are the API parser's (core.api_errors).
_FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _nfc_querydict(data: QueryDict) -> QueryDict:
    normalised = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        if "password" in key:
            # Passwords are compared as they were set: normalising them would lock out
            # whoever chose one in another form.
            normalised.setlist(key, values)
        else:
            normalised.setlist(nfc(key), [nfc(value) for value in values])
    normalised._mutable = False
    return normalised


class UnicodeInputMiddleware:
    """Every form field and query parameter reaches the views in NFC (core.text), so that
    what is stored, compared and searched is one form of each Vietnamese letter."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.GET:
            request.GET = _nfc_querydict(request.GET)  # type: ignore[assignment]
        if request.method == "POST" and request.content_type in _FORM_CONTENT_TYPES:
            request.POST = _nfc_querydict(request.POST)  # type: ignore[assignment]
        return self.get_response(request)
