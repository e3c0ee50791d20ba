import time
from collections.abc import Callable, MutableMapping
from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect
from django.urls import Resolver404, get_resolver, resolve
from django.utils.translation import gettext as _

from . import two_factor
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
            try:
                request.POST = _nfc_querydict(request.POST)  # type: ignore[assignment]
            except MultiPartParserError:
                # A client's broken upload (no boundary, a cut body) is its error, not ours:
                # 400 with a message (JSON under /api/, by ApiErrorsMiddleware).
                return HttpResponseBadRequest(
                    _("The form could not be read: its multipart body is not valid."))
        return self.get_response(request)


# ---------------------------------------------------------------- sessions on shared computers

# The session key of the last activity (seconds since the epoch).
LAST_ACTIVITY = "diemcau_last_activity"
# Requests a page makes by itself (a counter refreshed every minute) say so with this header:
# they do not keep an unattended session alive.
BACKGROUND_HEADER = "HTTP_X_DIEMCAU_BACKGROUND"


def note_activity(session: MutableMapping[str, Any], *, every: int = 60) -> bool:
    """Mark the session active now, at most once per `every` seconds (a write each time):
    its expiry (SESSION_COOKIE_AGE, the idle timeout) starts again. True when marked."""
    now = int(time.time())
    if now - int(session.get(LAST_ACTIVITY) or 0) < every:
        return False
    session[LAST_ACTIVITY] = now
    return True


class SessionActivityMiddleware:
    """R22, shared room computers: a session ends when the browser closes
    (SESSION_EXPIRE_AT_BROWSER_CLOSE) or after SESSION_IDLE_TIMEOUT without a request of the
    person's own; the session's server-side expiry is that timeout, renewed here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and not request.META.get(BACKGROUND_HEADER)):
            note_activity(request.session)
        return self.get_response(request)


# ---------------------------------------------------------------- two-factor sign-in


class TwoFactorMiddleware:
    """Whoever must sign in with a second factor (core.two_factor) and has a session without
    one reaches only the enrolment page, their password, the language and sign-out. The API
    refuses such a session itself (core.api_auth)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (two_factor.required_for(user) and not user.is_verified()  # type: ignore[union-attr]
                and not self._open(request)):
            messages.warning(request, _("Your role must sign in with a second factor: enrol "
                                        "an authenticator app first."))
            return redirect(settings.TWO_FACTOR_URL)
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        if request.path.startswith(("/api/", settings.STATIC_URL, settings.MEDIA_URL)):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return True  # the 404 page
        return match.view_name in settings.TWO_FACTOR_OPEN_VIEWS


# ---------------------------------------------------------------- 404 pages


class NotFoundPageMiddleware:
    """A 404 never lists the URL patterns or the settings, not even with DEBUG on (Django's
    debug 404 page does both): the site's own 404 handler answers instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as error:
                return self._not_found(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        from django.http import Http404

        if settings.DEBUG and isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
        handler = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(404)
        return handler(request, exception=error)  # type: ignore[no-any-return,call-arg]


# ---------------------------------------------------------------- Content-Security-Policy


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (settings.CONTENT_SECURITY_POLICY), plus this site's own
    WebSocket origin in connect-src: 'self' covers ws:/wss: only in CSP level 3 browsers, and
    the live pages' sockets (/ws/…) must work in every browser the offices use. A page that
    talks to a media server adds its origin itself (media.views.allow_media_server)."""

    def get_policy_parts(self, request: HttpRequest, response: Any,
                         report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        scheme = "wss" if request.is_secure() else "ws"
        try:
            own = f"{scheme}://{request.get_host()}"
        except Exception:  # DisallowedHost: the response is an error page anyway
            return parts
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), own]
        parts.update = update
        return parts


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
