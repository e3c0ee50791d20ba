"""The sign-in form (password, then the 6-digit code for accounts with two-factor sign-in),
the password change and the two-factor enrolment forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp import match_token

from diemcau.core import two_factor


class CodeInput(forms.TextInput):
    def __init__(self) -> None:
        super().__init__(attrs={
            "inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*",
            "maxlength": "8", "class": "form-control",
        })


class SignInForm(AuthenticationForm):
    """Django's sign-in form (django-axes counts its failures) with the second factor."""

    otp_token = forms.CharField(
        label=_("Two-factor code"), required=False, widget=CodeInput(),
        help_text=_("The 6 digits your authenticator app shows. Only for accounts with "
                    "two-factor sign-in (always for administrators and MCU operators)."),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "code_missing": _("This account signs in with a two-factor code: type the 6 digits "
                          "your authenticator app shows."),
        "code_wrong": _("The two-factor code is not right. Type the code the app shows now "
                        "(check the phone's clock if it keeps failing)."),
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password (and the lockout) first
        user = self.get_user()
        if user is None or two_factor.confirmed_device(user) is None:
            return cleaned
        code = (cleaned.get("otp_token") or "").replace(" ", "")
        if not code:
            raise forms.ValidationError(self.error_messages["code_missing"],
                                        code="code_missing")
        device = match_token(user, code)
        if device is None:
            # A wrong code counts as a failed sign-in: the lockout covers it too (django-axes
            # and the audit log hear of it by Django's own signal).
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username(), "reason": "second_factor"},
                request=self.request,
            )
            raise forms.ValidationError(self.error_messages["code_wrong"], code="code_wrong")
        # django-otp records the device in the session when Django's login() runs.
        user.otp_device = device  # type: ignore[attr-defined]
        return cleaned


class OwnPasswordForm(PasswordChangeForm):
    """The old password, then the new one twice (Django's validators)."""


class EnrolForm(forms.Form):
    otp_token = forms.CharField(label=_("Code shown by the app"), widget=CodeInput(),
                                max_length=8)
