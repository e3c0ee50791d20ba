"""Template helpers shared by every app's pages: status badges, bilingual rulebook text,
permission checks and Bootstrap form widgets."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField, CheckboxInput, CheckboxSelectMultiple, RadioSelect, Select
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from diemcau.core.permissions import Action, can

from .. import status as statuses

register = template.Library()


@register.filter
def status_colour(value: str, kind: str) -> str:
    """`{{ endpoint.status|status_colour:"endpoint" }}` → the Bootstrap colour name."""
    return statuses.colour(kind, value)


@register.simple_tag
def status_badge(kind: str, value: str) -> SafeString:
    """`{% status_badge "meeting" meeting.status %}`: the status as a coloured badge, in the
    colour every page, the calendar and the consoles use (`ui.status`)."""
    colour = statuses.colour(kind, value)
    return format_html(
        '<span class="badge status-badge {}-status text-bg-{}" data-status="{}">{}</span>',
        kind, colour, value, statuses.label(kind, value),
    )


def _vietnamese() -> bool:
    return (get_language() or "vi").startswith("vi")


@register.filter
def bilingual(obj: Any, attribute: str) -> str:
    """`{{ level|bilingual:"label" }}` → `label_vi` in Vietnamese, else `label_en`."""
    preferred = f"{attribute}_vi" if _vietnamese() else f"{attribute}_en"
    fallback = f"{attribute}_en" if _vietnamese() else f"{attribute}_vi"
    return getattr(obj, preferred, "") or getattr(obj, fallback, "")


@register.simple_tag
def level_label(rulebook: Any, kind: str) -> str:
    """The rulebook's label of the level of an agency kind ("Cấp xã (…)")."""
    try:
        level = rulebook.level(rulebook.level_for_kind(kind))
    except KeyError:
        return ""
    return bilingual(level, "label")


@register.simple_tag
def may(user: Any, action: str, agency: Any = None) -> bool:
    """`{% may user "approve_endpoint" endpoint.agency as allowed %}`."""
    return can(user, Action(action), agency)


@register.filter
def widget(field: BoundField) -> SafeString:
    """Render a form field's widget with Bootstrap classes (and `is-invalid` on errors)."""
    w = field.field.widget
    if isinstance(w, CheckboxInput | CheckboxSelectMultiple | RadioSelect):
        css = "form-check-input"
    elif isinstance(w, Select):
        css = "form-select"
    else:
        css = "form-control"
    classes = [css, w.attrs.get("class", "")]
    if field.errors:
        classes.append("is-invalid")
    attrs: dict[str, Any] = {"class": " ".join(c for c in classes if c)}
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_errors"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, CheckboxInput)


@register.filter
def startswith(value: Any, prefix: str) -> bool:
    return str(value or "").startswith(prefix)


@register.filter
def alert_class(level_tag: str) -> str:
    """Bootstrap's name for a message level ("error" is "danger")."""
    return {"error": "danger", "debug": "secondary"}.get(level_tag, level_tag or "info")


@register.filter
def cite(rulebook: Any, article: str) -> str:
    """`{{ rulebook|cite:rulebook.naming.article }}` → "Điều 6.4 Quy chế KH"."""
    return str(rulebook.cite(article or ""))


# The networks by the names people use for them; the long labels are in Network's choices.
_NETWORK_SHORT = {"tslcd": "TSLCD", "wan": "WAN", "internet": "Internet"}


@register.filter
def network_short(network: str) -> str:
    return _NETWORK_SHORT.get(str(network), str(network))
