"""How the audit log reads to an auditor (R22): each action in words, each field by its
label, each value as a word — while the log itself keeps the codes it was hashed with.

Apps register their actions' wording in their `AppConfig.ready` (`register`), as they do for
statuses and messages; fields and values are read from the models themselves (verbose names,
choices, the objects a key points to).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_ACTIONS: dict[str, Any] = {
    "user.create": gettext_lazy("Account created"),
    "user.update": gettext_lazy("Account changed"),
    "user.language": gettext_lazy("Language changed"),
    "api_token.create": gettext_lazy("API token created"),
    "api_token.revoke": gettext_lazy("API token revoked"),
    "auth.login": gettext_lazy("Signed in"),
    "auth.login_failed": gettext_lazy("Sign-in refused"),
    "auth.logout": gettext_lazy("Signed out"),
    "auth.unlock": gettext_lazy("Locked sign-in unlocked"),
    "user.password": gettext_lazy("Password changed"),
    "user.two_factor_on": gettext_lazy("Two-factor sign-in enabled"),
    "user.two_factor_off": gettext_lazy("Two-factor sign-in removed"),
    "audit.chain_keyed": gettext_lazy("Audit chain sealed with its key"),
    "notification_preferences.update": gettext_lazy("Notification settings changed"),
}


def register(labels: Mapping[str, Any]) -> None:
    """`{"meeting.accept": gettext_lazy("Meeting accepted"), …}` (AppConfig.ready)."""
    _ACTIONS.update(labels)


def action_label(action: str) -> str:
    label = _ACTIONS.get(action)
    if label is not None:
        return str(label)
    return action.replace("_", " ").replace(".", ": ", 1)


def known_actions() -> set[str]:
    return set(_ACTIONS)


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    model = _model(object_type)
    return str(model._meta.verbose_name).capitalize() if model else object_type


def _field(model: type[models.Model] | None, key: str) -> Any:
    if model is None:
        return None
    for name in (key, key.removesuffix("_id")):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def field_label(object_type: str, key: str) -> str:
    field = _field(_model(object_type), key)
    label = getattr(field, "verbose_name", None)
    return str(label).capitalize() if label else key.replace("_", " ")


def _moment(value: str) -> str | None:
    if len(value) < 16 or value[4:5] != "-":
        return None
    moment = parse_datetime(value)
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M:%S")


def value_words(object_type: str, key: str, value: Any) -> str:
    """A stored value as the auditor reads it: a choice's label, Yes/No, a local time, the
    name of the object an id points to."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    field = _field(_model(object_type), key)
    related = getattr(field, "related_model", None)
    if related is not None and isinstance(value, int | list):
        ids = value if isinstance(value, list) else [value]
        names = {obj.pk: str(obj) for obj in related._default_manager.filter(pk__in=ids)}
        return ", ".join(names.get(pk, f"#{pk}") for pk in ids) or "—"
    choices = getattr(field, "choices", None)
    if choices and isinstance(value, str):
        return str(dict(choices).get(value, value))
    if isinstance(value, str):
        return _moment(value) or value
    if isinstance(value, list):
        return ", ".join(value_words(object_type, key, item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(object_type, k)}: {value_words(object_type, k, v)}"
                         for k, v in value.items())
    return str(value)
