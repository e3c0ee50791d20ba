"""The agencies' official e-mail addresses (KH Đ13.2a), kept by the MCU operators: only a
message from one of them becomes a registration."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.models import Agency

from ..models import OfficialAddress


@transaction.atomic
def add_official_address(agency: Agency, address: str, *, actor: User) -> OfficialAddress:
    require(actor, Action.DECIDE_MEETING)
    address = address.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput({"address": [_("Enter a valid e-mail address.")]}) from None
    if OfficialAddress.objects.filter(address__iexact=address).exists():
        raise InvalidInput({"address": [_("This address is already an agency's.")]})
    official = OfficialAddress.objects.create(agency=agency, address=address, created_by=actor)
    audit.record("official_address.add", official, actor=actor,
                 after={"agency": agency.pk, "address": address})
    return official


@transaction.atomic
def remove_official_address(official: OfficialAddress, *, actor: User) -> None:
    require(actor, Action.DECIDE_MEETING)
    audit.record("official_address.remove", official, actor=actor,
                 before={"agency": official.agency_id, "address": official.address})
    official.delete()
