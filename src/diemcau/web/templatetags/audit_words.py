"""The audit log in words (core.audit_labels): `{{ event.action|audit_action }}`."""

from django import template

from diemcau.core import audit_labels

register = template.Library()


@register.filter
def audit_action(action: str) -> str:
    return audit_labels.action_label(action)


@register.filter
def audit_object_type(object_type: str) -> str:
    return audit_labels.object_type_label(object_type)
