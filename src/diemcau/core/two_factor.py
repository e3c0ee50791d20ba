"""Two-factor sign-in with time-based codes (TOTP, RFC 6238; django-otp).

Required for the roles that can change everything (settings.TWO_FACTOR_ROLES: by default the
system administrators and the MCU operators, and any superuser); optional for everyone else.
Whoever has a confirmed device types its 6-digit code at sign-in; a session is "verified" when
django-otp recorded that device in it. A user of a required role without a device can only
reach the enrolment page, their password page and sign-out until they enrol
(TwoFactorMiddleware); the API's session authentication and the live consoles' WebSockets ask
the same `satisfied()`.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

DEVICE_NAME = "diemcau"


def required_for(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.role in settings.TWO_FACTOR_ROLES)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def session_verified(user: Any, session: Mapping[str, Any] | None) -> bool:
    """Whether `session` was opened with a code of one of `user`'s confirmed devices."""
    if session is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(str(persistent_id), for_verify=False)
    return bool(device is not None and device.user_id == user.pk and device.confirmed)


def satisfied(user: Any, session: Mapping[str, Any] | None) -> bool:
    """False only for a user who must use a second factor and whose session has none."""
    return not required_for(user) or session_verified(user, session)


def manual_key(device: TOTPDevice) -> str:
    """The key as an authenticator app asks it when typed by hand: base32, in groups of 4."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address of the device as an SVG QR code (a data: URI for an <img>)."""
    import segno

    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))
