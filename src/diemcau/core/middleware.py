from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
