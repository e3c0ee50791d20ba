"""How domain errors look in the REST API.

One shape for everything that is wrong with the input, whether pydantic refused it (wrong type,
missing field, bad JSON) or a service did (a rule of the rulebook, a bad value)::

    422 {"detail": [{"loc": ["body", "name"], "msg": "...", "type": "...", ...}]}

A rule violation adds its ``code`` and ``article``, and its ``msg`` starts with the article
("Điều 6.4 Quy chế KH: ..."), as R-everything requires. Other errors are
``{"detail": "<message>"}`` with 401, 403, 404 or 409. Messages are translated to the
request's language (LocaleMiddleware: Accept-Language, vi first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.parser import Parser

from .errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from .text import nfc_data

BODY = "body"


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
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
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


class JsonObjectParser(Parser):
    """Ninja's JSON parser, refusing a body that is not a JSON object.

    Without this, a list or a number would reach pydantic and come back as one "missing"
    error per field, which hides the actual mistake.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise BodyNotAnObject("the request body must be a JSON object")
        # Text comes in as NFC, as from the pages (core.text).
        return nfc_data(data)  # type: ignore[no-any-return]


class DiemcauNinjaAPI(NinjaAPI):
    """NinjaAPI whose validation errors name the body field as services do: ["body", "name"].

    Ninja puts the handler's parameter name in between (["body", "payload", "name"]); an API
    client knows nothing of that name, and rule violations could not use the same location.
    """

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
        return _detail(api, request, exc.message or _("You are not allowed to do this."), 403)

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
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # Ninja's "Cannot parse request body" (bad JSON, bad encoding, not an object): an
            # input error like any other, in the same 422 shape.
            if isinstance(exc.__cause__, BodyNotAnObject):
                msg = _("The request body must be a JSON object.")
            else:
                msg = _("The request body is not valid JSON.")
            return _detail(api, request, [{"loc": [BODY], "msg": msg, "type": "json_invalid"}],
                           422)
        if exc.status_code == 403 and "CSRF" in exc.message:
            return _detail(api, request, _("CSRF check failed."), 403)
        return _detail(api, request, str(exc), exc.status_code)

    handlers: Mapping[type[Exception], Any] = {
        RuleViolation: on_rule_violation,
        InvalidInput: on_invalid_input,
        PermissionDenied: on_permission_denied,
        InvalidTransition: on_invalid_transition,
        Http404: on_not_found,
        ObjectDoesNotExist: on_not_found,
        AuthenticationError: on_authentication,
        HttpError: on_http_error,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
