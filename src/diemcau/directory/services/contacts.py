from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit, date_bounds
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.core.text import hidden_character_errors

from ..choices import ContactRole
from ..models import Contact, Endpoint

# Vietnamese phone numbers: 0 + 9–10 digits, or +84 + 9–10 digits; spaces and dots allowed.
_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")


@dataclass
class ContactInput:
    role: str
    full_name: str
    phone: str
    email: str = ""
    trained_on: dt.date | None = None
    change_reason: str = ""


# Apps above the directory hear of a new contact inside `set_contact`'s transaction (the
# operations desk opens a training task, ĐN Đ16.3, KH Đ19.3): (new, replaced or None, actor).
ContactObserver = Callable[[Contact, "Contact | None", User], None]
_observers: list[ContactObserver] = []


def on_contact_set(observer: ContactObserver) -> None:
    if observer not in _observers:
        _observers.append(observer)


def normalize_phone(phone: str) -> str:
    return re.sub(r"[\s.\-()]", "", phone or "")


def valid_phone(phone: str) -> bool:
    return bool(_PHONE.match(normalize_phone(phone)))


def _validate(data: ContactInput) -> None:
    errors: dict[str, list[str]] = {}
    if data.role not in ContactRole.values:
        errors["role"] = [_("Choose a valid role.")]
    if not data.full_name.strip():
        errors["full_name"] = [_("This field is required.")]
    if not valid_phone(data.phone):
        errors["phone"] = [_("Enter a Vietnamese phone number, e.g. 0912345678 or +84912345678.")]
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if data.trained_on and data.trained_on > timezone.localdate():
        errors["trained_on"] = [_("The training date cannot be in the future.")]
    errors.update(date_bounds.window_errors(trained_on=data.trained_on))
    errors.update(hidden_character_errors({"full_name": data.full_name}))
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def set_contact(endpoint: Endpoint, data: ContactInput, *, actor: User) -> Contact:
    """Assign the leader or technician of an endpoint; the previous one is ended, not erased.

    ĐN Đ16.3 / KH Đ19.3: changes are reported to the operator, who keeps the consolidated list
    (the history stays here); replacement staff need training (`trained_on` empty = not yet).
    """
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(pk=endpoint.pk)
    require(actor, Action.MANAGE_CONTACTS, endpoint.agency)
    _validate(data)
    now = timezone.now()
    previous = endpoint.contacts.filter(role=data.role, active_until__isnull=True).first()
    before = audit.snapshot(previous) if previous else None
    if previous is not None:
        previous.active_until = now
        previous.save(update_fields=["active_until"])
    contact = Contact.objects.create(
        endpoint=endpoint,
        role=data.role,
        full_name=data.full_name.strip(),
        phone=normalize_phone(data.phone),
        email=data.email.strip(),
        trained_on=data.trained_on,
        active_from=now,
        change_reason=data.change_reason.strip(),
    )
    audit.record("contact.set", contact, actor=actor, before=before, after=audit.snapshot(contact))
    for observer in _observers:
        observer(contact, previous, actor)
    return contact


@transaction.atomic
def end_contact(contact: Contact, *, reason: str, actor: User) -> Contact:
    """The person left the post and nobody replaces them yet."""
    contact = (
        Contact.objects.select_for_update().select_related("endpoint__agency").get(pk=contact.pk)
    )
    require(actor, Action.MANAGE_CONTACTS, contact.endpoint.agency)
    if contact.active_until is not None:
        raise InvalidTransition(_("This contact has already ended."))
    if not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason.")]})
    longest = Contact._meta.get_field("change_reason").max_length or 0
    if len(reason.strip()) > longest:
        raise InvalidInput({"reason": [
            _("At most %(n)s characters.") % {"n": longest}
        ]})
    before = audit.snapshot(contact)
    contact.active_until = timezone.now()
    contact.change_reason = reason.strip()
    contact.save(update_fields=["active_until", "change_reason"])
    audit.record("contact.end", contact, actor=actor, before=before, after=audit.snapshot(contact))
    return contact
