"""How pages call services and show what they refuse.

Services check permission and the rulebook and raise domain errors; this turns each into what
the person sees: a rule violation or bad input as an error on the form field it concerns (with
the article it cites), a refused permission as the 403 page, an impossible status change as a
message. Services are atomic, so a refusal leaves nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    ok: bool
    value: T | None = None


def _field_or_none(form: forms.BaseForm, name: str | None) -> str | None:
    return name if name and name in form.fields else None


def rule_violation_text(error: RuleViolation) -> str:
    """ "Điều 6.4 Quy chế KH: …": the article always comes first."""
    return f"{error.article}: {error.message}" if error.article else error.message


def add_service_error(form: forms.BaseForm, error: RuleViolation | InvalidInput) -> None:
    if isinstance(error, RuleViolation):
        form.add_error(_field_or_none(form, error.field), rule_violation_text(error))
        return
    for name, field_messages in error.errors.items():
        target = _field_or_none(form, name)
        for message in field_messages:
            # A message about a field the form does not show still names that field.
            form.add_error(target, message if target or not name else f"{name}: {message}")


def call_service(request: HttpRequest, form: forms.BaseForm, call: Callable[[], T]) -> Outcome[T]:
    """Run `call`; on refusal put the reason on `form` (or in messages) and return not-ok."""
    try:
        return Outcome(True, call())
    except (RuleViolation, InvalidInput) as error:
        add_service_error(form, error)
    except InvalidTransition as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        raise Forbidden(str(error)) from error
    return Outcome(False)


def no_store(response: HttpResponse) -> HttpResponse:
    """For pages that show a secret once: browsers and proxies must not keep a copy."""
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 page (``handler400``): what was wrong, when the site said it (a date outside the
    window, a NUL character, a form too large), never Django's internal reason."""
    if isinstance(exception, RequestDataTooBig):
        message = _("What was sent is larger than the site accepts.")
    elif isinstance(exception, BadRequest) and str(exception):
        message = str(exception)
    else:
        message = _("The request could not be understood.")
    try:
        return render(request, "400.html", {"message": message}, status=400)
    except Exception:  # before the session or the user is known: a plain page, never a 500
        return HttpResponseBadRequest(f"<h1>400</h1><p>{escape(message)}</p>")
