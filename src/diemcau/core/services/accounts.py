"""Signing in and out, passwords, two-factor devices and login lockouts: each one an audit
event (R22), each change in one transaction.

Django announces sign-ins, sign-outs and failed attempts by its auth signals on every path
(the sign-in page, the admin's, a test client); `connect_signals()` turns each into its audit
event here, so no path can skip it.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from diemcau.core import audit, two_factor
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, require, role_allows

# ---------------------------------------------------------------- sign-in events


@transaction.atomic
def record_sign_in(user: User, *, second_factor: bool) -> None:
    audit.record("auth.login", user, actor=user, after={"second_factor": second_factor})


@transaction.atomic
def record_sign_out(user: User) -> None:
    audit.record("auth.logout", user, actor=user)


@transaction.atomic
def record_failed_sign_in(username: str, *, reason: str, locked_out: bool) -> None:
    """A refused sign-in, under the name that was typed (the account, if there is one)."""
    username = (username or "")[:150]
    user = User.objects.filter(username=username).first() if username else None
    audit.record(
        "auth.login_failed", user, actor=None,
        object_type="core.user", object_id=str(user.pk) if user else "",
        object_repr=username,
        after={"username": username, "reason": reason, "locked_out": locked_out},
    )


def _on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record_sign_in(user, second_factor=getattr(user, "otp_device", None) is not None)


def _on_logged_out(sender: Any, request: HttpRequest | None, user: User | None,
                   **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        record_sign_out(user)


def _on_login_failed(sender: Any, credentials: dict[str, Any],
                     request: HttpRequest | None = None, **kwargs: Any) -> None:
    # django-axes has counted the attempt before this runs (its app is installed first).
    record_failed_sign_in(
        str(credentials.get("username") or ""),
        reason=str(credentials.get("reason") or "password"),
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )


LOGIN_RECEIVER = "diemcau_audit_login"


def connect_signals() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid=LOGIN_RECEIVER)
    user_logged_out.connect(_on_logged_out, dispatch_uid="diemcau_audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="diemcau_audit_login_failed")


# ---------------------------------------------------------------- passwords


@transaction.atomic
def set_password(user: User, raw_password: str | None, *, actor: User) -> User:
    """A new password, by its owner (who gave the old one to the page) or by an administrator
    (the admin site). None disables password sign-in (the admin's choice). Never audited in
    any form but "changed"."""
    if actor.pk != user.pk:
        require(actor, Action.MANAGE_USERS)
    user = User.objects.select_for_update().get(pk=user.pk)
    if raw_password is None:
        user.set_unusable_password()
    else:
        try:
            password_validation.validate_password(raw_password, user)
        except ValidationError as error:
            raise InvalidInput({"new_password1": list(error.messages)}) from error
        user.set_password(raw_password)
    user.save(update_fields=["password"])
    audit.record("user.password", user, actor=actor,
                 after={"by": "self" if actor.pk == user.pk else "administrator",
                        "usable": raw_password is not None})
    return user


# ---------------------------------------------------------------- two-factor devices


@transaction.atomic
def start_two_factor(user: User) -> TOTPDevice:
    """The device being enrolled: unconfirmed, with a new key, until a code confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=two_factor.DEVICE_NAME,
                                           confirmed=False)
    return device


@transaction.atomic
def confirm_two_factor(user: User, device: TOTPDevice, code: str) -> TOTPDevice:
    """The first code from the authenticator app proves it holds the key: confirmed."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if device.confirmed:
        return device
    if not device.verify_token(code.strip().replace(" ", "")):
        raise InvalidInput({"otp_token": [
            _("This code is not right. Check that the phone's clock is correct and type the "
              "code the app shows now.")
        ]})
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record("user.two_factor_on", user, actor=user, after={"device": device.name})
    return device


@transaction.atomic
def issue_two_factor_device(user: User) -> tuple[TOTPDevice, bool]:
    """A confirmed device made by the system itself (the demo's accounts), whose key is then
    handed to the person; (device, whether it was made now). Audited without an actor."""
    device = two_factor.confirmed_device(user)
    if device is not None:
        return device, False
    device = TOTPDevice.objects.create(user=user, name=two_factor.DEVICE_NAME, confirmed=True)
    audit.record("user.two_factor_on", user, actor=None, after={"device": device.name,
                                                                "by": "system"})
    return device, True


@transaction.atomic
def remove_two_factor(user: User, *, actor: User) -> int:
    """Remove the user's devices: their own choice where the role allows it, or an
    administrator's (a lost phone). Whoever must use a second factor enrols again at the next
    sign-in."""
    if actor.pk == user.pk:
        if two_factor.required_for(user):
            raise PermissionDenied(
                "remove_two_factor",
                _("Your role must sign in with a second factor; an administrator can reset it "
                  "if the phone is lost."),
            )
    elif not role_allows(actor, Action.MANAGE_USERS):
        raise PermissionDenied("remove_two_factor", _("Only administrators may do this."))
    removed, _details = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        audit.record("user.two_factor_off", user, actor=actor,
                     after={"by": "self" if actor.pk == user.pk else "administrator"})
    return removed


# ---------------------------------------------------------------- lockouts


@transaction.atomic
def unlock_sign_in(*, actor: User, username: str | None = None,
                   address: str | None = None) -> int:
    """An administrator lifts the lockout of an account, an address, or both, before its
    cool-off ends; the failed attempts are forgotten."""
    require(actor, Action.MANAGE_USERS)
    if not username and not address:
        raise InvalidInput({"username": [_("Name an account or an address.")]})
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if address:
        attempts = attempts.filter(ip_address=address)
    removed, _details = attempts.delete()
    user = User.objects.filter(username=username).first() if username else None
    audit.record("auth.unlock", user, actor=actor, object_type="core.user",
                 object_id=str(user.pk) if user else "", object_repr=username or address or "",
                 after={"username": username or "", "address": address or "",
                        "attempts_removed": removed})
    return removed
