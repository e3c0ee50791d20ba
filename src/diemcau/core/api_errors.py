"""How errors look in the REST API: JSON, in one shape, for everything under /api/.

One shape for everything that is wrong with the input, whether pydantic refused it (wrong type,
missing field, a number beyond what the database holds, bad JSON, a NUL character) or a
service did (a rule of the rulebook, a bad value)::

    422 {"detail": [{"loc": ["body", "name"], "msg": "...", "type": "...", ...}]}

A rule violation adds its ``code`` and ``article``, and its ``msg`` starts with the article
("Điều 6.4 Quy chế KH: ..."), as R-everything requires. Other errors are
``{"detail": "<message>"}``: 400 (a body that cannot be read, JSON nested too deeply), 401,
403, 404 (also for a path that names no operation, such as a non-integer id), 405, 409, 413
(a body over the size limit) and 500. `ApiErrorsMiddleware` gives the same shape to whatever
Django itself answers under /api/, so no HTML error page ever reaches an API client. Messages
are translated to the request's language (LocaleMiddleware: Accept-Language, vi first).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import partial
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, path
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.openapi.views import openapi_json
from ninja.parser import Parser

from .errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from .middleware import NUL, nul_message
from .text import nfc_data

BODY = "body"
QUERY = "query"
API_PREFIX = "/api/"
JSON_TYPE = "application/json; charset=utf-8"
UNESCAPED: dict[str, Any] = {"ensure_ascii": False}
# Deeper than any body this API documents (a meeting with its repeat is 2 levels).
MAX_JSON_DEPTH = 32


class ErrorOut(Schema):
    """401, 403, 404, 409: one message."""

    detail: str


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str
    code: str | None = None
    article: str | None = None


class ValidationErrorOut(Schema):
    """422: one item per problem, located in the request (["body", "name"])."""

    detail: list[ErrorItem]


# For the OpenAPI document: the errors every authenticated operation may answer with.
ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ValidationErrorOut,
}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    """`ok` (e.g. {200: EndpointOut}) plus the documented error responses."""
    return {**ERROR_RESPONSES, **ok}


def _body_loc(field: str | None) -> list[str]:
    return [BODY, field] if field else [BODY]


def rule_violation_item(exc: RuleViolation) -> dict[str, Any]:
    return {
        "loc": _body_loc(exc.field),
        "msg": str(exc),
        "type": "rule_violation",
        "code": exc.code,
        "article": exc.article,
    }


def invalid_input_items(exc: InvalidInput) -> list[dict[str, Any]]:
    return [
        {"loc": _body_loc(field), "msg": str(message), "type": "invalid"}
        for field, messages in exc.errors.items()
        for message in messages
    ] or [{"loc": [BODY], "msg": _("Invalid input."), "type": "invalid"}]


class BodyNotAnObject(ValueError):
    """The body is JSON, but not an object ({...}) as every operation of this API expects."""


class BodyTooDeep(ValueError):
    """The body nests arrays or objects deeper than MAX_JSON_DEPTH."""


class NulCharacter(ValueError):
    """A text (or a key) holds U+0000, which no database column can store."""

    def __init__(self, loc: list[str | int]):
        super().__init__("NUL character")
        self.loc = loc


def _check_tree(data: Any) -> None:
    """Refuse a NUL in any text or key, and nesting deeper than MAX_JSON_DEPTH (iteratively,
    so the check itself cannot exhaust the stack)."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [BODY])]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_JSON_DEPTH + 1:
            raise BodyTooDeep("nested too deeply")
        if isinstance(value, str):
            if NUL in value:
                raise NulCharacter(loc)
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in key:
                    raise NulCharacter([*loc, key.replace(NUL, "")])
                stack.append((item, [*loc, key]))
        elif isinstance(value, list):
            stack.extend((item, [*loc, index]) for index, item in enumerate(value))


class JsonObjectParser(Parser):
    """Ninja's JSON parser, refusing a body that is not a JSON object, that nests too deeply,
    or that holds a NUL character (PostgreSQL refuses it in text; SQLite would keep it).

    Without the first, a list or a number would reach pydantic and come back as one "missing"
    error per field, which hides the actual mistake. Query strings get the NUL check too.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = super().parse_body(request)
        except RecursionError:
            raise BodyTooDeep("nested too deeply") from None
        if not isinstance(data, dict):
            raise BodyNotAnObject("the request body must be a JSON object")
        _check_tree(data)
        # Text comes in as NFC, as from the pages (core.text).
        return nfc_data(data)  # type: ignore[no-any-return]

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        for key, values in data.lists():
            if NUL in key or any(NUL in value for value in values):
                loc = [QUERY, key.replace(NUL, "")]
                raise ValidationError([{"loc": loc, "msg": nul_message(),
                                        "type": "null_character"}])
        return super().parse_querydict(data, list_fields, request)


class DiemcauNinjaAPI(NinjaAPI):
    """NinjaAPI whose validation errors name the body field as services do: ["body", "name"].

    Ninja puts the handler's parameter name in between (["body", "payload", "name"]); an API
    client knows nothing of that name, and rule violations could not use the same location.
    The OpenAPI document is also served beside the operations, at ``v1/openapi.json``.
    """

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls: list[URLResolver | URLPattern] = super()._get_urls()
        if self.openapi_url:
            urls.insert(0, path("v1/openapi.json", partial(openapi_json, api=self),
                                name="openapi-json-v1"))
        return urls

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        single_body_params: set[str] = set()
        for context in error_contexts:
            model = context.model
            fields = list(getattr(model, "model_fields", {}))
            if getattr(model, "__ninja_param_source__", None) == BODY and len(fields) == 1:
                single_body_params.add(fields[0])
        error = super().validation_error_from_error_contexts(error_contexts)
        for item in error.errors:
            loc = list(item.get("loc", ()))
            if len(loc) >= 2 and loc[0] == BODY and loc[1] in single_body_params:
                loc = [BODY, *loc[2:]]
            item["loc"] = loc
        return error


def _detail(api: NinjaAPI, request: HttpRequest, detail: Any, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


def register_exception_handlers(api: NinjaAPI) -> None:
    """Install the handlers on `api` (after NinjaAPI's own defaults, which they override)."""

    def on_rule_violation(request: HttpRequest, exc: RuleViolation) -> HttpResponse:
        return _detail(api, request, [rule_violation_item(exc)], 422)

    def on_invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
        return _detail(api, request, invalid_input_items(exc), 422)

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _detail(api, request, str(exc), 403)

    def on_invalid_transition(request: HttpRequest, exc: InvalidTransition) -> HttpResponse:
        return _detail(api, request, str(exc), 409)

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Never say what was looked for: out-of-scope objects are "not found" too.
        return _detail(api, request, _("Not found."), 404)

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _detail(
            api,
            request,
            _("Authentication required: send “Authorization: Bearer <API token>” or sign in."),
            401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="diemcau"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, BodyTooDeep):
            return _detail(api, request, too_deep_message(), 400)
        if exc.status_code == 400 and isinstance(cause, NulCharacter):
            item = {"loc": cause.loc, "msg": nul_message(), "type": "null_character"}
            return _detail(api, request, [item], 422)
        if exc.status_code == 400 and isinstance(cause, ValueError):
            # Ninja's "Cannot parse request body" (bad JSON, bad encoding, not an object): an
            # input error like any other, in the same 422 shape.
            if isinstance(cause, BodyNotAnObject):
                msg = _("The request body must be a JSON object.")
            else:
                msg = _("The request body is not valid JSON.")
            return _detail(api, request, [{"loc": [BODY], "msg": msg, "type": "json_invalid"}],
                           422)
        if exc.status_code == 400 and cause is not None:
            return _detail(api, request, status_message(400), 400)
        if exc.status_code == 403 and "CSRF" in exc.message:
            return _detail(api, request, _("CSRF check failed."), 403)
        return _detail(api, request, str(exc), exc.status_code)

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return _detail(api, request, too_big_message(), 413)

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        logging.getLogger("django.security").warning("%s: %s", type(exc).__name__, exc)
        return _detail(api, request, status_message(400), 400)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django logs it and answers 500; ApiErrorsMiddleware turns that into JSON. (Ninja's
        # own default would answer a traceback as text/plain when DEBUG is on.)
        raise exc

    handlers: Mapping[type[Exception], Any] = {
        RuleViolation: on_rule_violation,
        InvalidInput: on_invalid_input,
        PermissionDenied: on_permission_denied,
        InvalidTransition: on_invalid_transition,
        Http404: on_not_found,
        ObjectDoesNotExist: on_not_found,
        AuthenticationError: on_authentication,
        HttpError: on_http_error,
        RequestDataTooBig: on_too_big,
        SuspiciousOperation: on_suspicious,
        Exception: on_unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


# ---------------------------------------------------------------- Django's own answers


def too_big_message() -> str:
    return _("The request body is larger than %(size)s bytes.") % {
        "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def too_deep_message() -> str:
    return _("The JSON body is nested too deeply (at most %(depth)s levels).") % {
        "depth": MAX_JSON_DEPTH
    }


def status_message(status: int, request: HttpRequest | None = None) -> str:
    """The message of an error that no operation produced (a path that names none, a method
    it does not take, a request Django refused, a failure)."""
    if status == 400:
        return _("Bad request.")
    if status == 401:
        return _("Authentication required: send “Authorization: Bearer <API token>” or sign in.")
    if status == 403:
        return _("You are not allowed to do this.")
    if status == 404:
        return _("Not found.")
    if status == 405:
        return _("Method %(method)s is not allowed here.") % {
            "method": request.method if request is not None else ""
        }
    if status == 413:
        return too_big_message()
    if status >= 500:
        return _("The server failed to answer this request; the failure has been logged.")
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("Bad request.")


def _is_json(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiErrorsMiddleware:
    """Under /api/, every error is JSON in the API's shape, whoever produced it.

    Operations answer JSON themselves (the handlers above). This covers what happens around
    them: a path that names no operation (a non-integer id: 404), a method an operation does
    not take (405, with its Allow header), a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413, before
    anything reads it), a request Django refuses (400) and any failure (500). Headers set by
    the other middleware are kept; only the body and its type change. Sits just inside
    SecurityMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            language = translation.get_language_from_request(request)
            with translation.override(language):
                return JsonResponse({"detail": too_big_message()}, status=413,
                                    content_type=JSON_TYPE, json_dumps_params=UNESCAPED)
        response = self.get_response(request)
        if response.status_code >= 400 and not response.streaming and not _is_json(response):
            language = getattr(request, "LANGUAGE_CODE", None) or (
                translation.get_language_from_request(request)
            )
            with translation.override(language):
                detail = status_message(response.status_code, request)
            response.content = json.dumps({"detail": detail}, **UNESCAPED).encode()
            response["Content-Type"] = JSON_TYPE
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
