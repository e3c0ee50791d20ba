"""Two-factor sign-in in tests: a confirmed device, a code it accepts, a verified session."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def device_for(user: Any) -> TOTPDevice:
    """The user's confirmed device, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return device


def unused_code(device: TOTPDevice) -> str:
    """A code the device accepts now, as the app would show it: the current step's, or the
    next one's (within the tolerance) when the current one was already used."""
    device.refresh_from_db()
    for offset in (0, 1):
        generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        generator.time = time.time() + offset * device.step
        if generator.t() > device.last_t:
            return f"{generator.token():0{device.digits}d}"
    raise AssertionError("no unused code within one step")


def verify_session(session: SessionBase, user: Any) -> None:
    """Mark `session` as signed in with `user`'s second factor (as the sign-in page does)."""
    session[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
    session.save()
