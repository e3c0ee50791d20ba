"""The pages of one's own account (R22): sign-in with the second factor, the password, and
two-factor enrolment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from diemcau.core import two_factor
from diemcau.core.models import User
from diemcau.core.services import accounts
from diemcau.ui.service_calls import call_service

from .account_forms import EnrolForm, OwnPasswordForm, SignInForm


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The demo's administrator and operator sign in with a code too: on a development
        # machine the page says how to get one without hunting for it (README).
        context["demo_hint"] = settings.DEBUG and User.objects.filter(
            email__endswith="@demo.diemcau.local"
        ).exists()
        context["idle_minutes"] = settings.SESSION_IDLE_TIMEOUT // 60
        return context


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = OwnPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: accounts.set_password(
            user, form.cleaned_data["new_password1"], actor=user))
        if outcome.ok:
            assert outcome.value is not None
            update_session_auth_hash(request, outcome.value)  # stay signed in here only
            messages.success(request, _("Your password was changed."))
            return redirect("dashboard")
    return render(request, "web/password_change.html", {"form": form})


@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (QR code, or the key typed by hand), or see that one is."""
    user = _user(request)
    device = two_factor.confirmed_device(user)
    if device is not None:
        # A session opened before the device was enrolled (another browser) proves the
        # second factor here once, instead of being sent back and forth.
        unverified = not user.is_verified()  # type: ignore[attr-defined]
        form = EnrolForm(request.POST or None) if unverified else None
        if form is not None and request.method == "POST" and form.is_valid():
            verified = match_token(user, form.cleaned_data["otp_token"].replace(" ", ""))
            if verified is not None:
                otp_login(request, verified)
                return redirect("dashboard")
            form.add_error("otp_token", _("This code is not right. Type the code the app "
                                          "shows now."))
        return render(request, "web/two_factor.html", {
            "device": device,
            "form": form,
            "required": two_factor.required_for(user),
        })
    pending = accounts.start_two_factor(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: accounts.confirm_two_factor(
            user, pending, form.cleaned_data["otp_token"]))
        if outcome.ok:
            otp_login(request, outcome.value)  # this session is now verified
            messages.success(request, _("Two-factor sign-in is on: from now on, type the "
                                        "app's code after your password."))
            return redirect("dashboard")
    return render(request, "web/two_factor.html", {
        "form": form,
        "required": two_factor.required_for(user),
        "qr": two_factor.qr_data_uri(pending),
        "manual_key": two_factor.manual_key(pending),
        "otpauth_uri": pending.config_url,
    })


@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = EnrolForm()  # only to carry a refusal; removal takes no input
    outcome = call_service(request, form, lambda: accounts.remove_two_factor(user, actor=user))
    if outcome.ok:
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("two_factor")


def locked_out(request: HttpRequest, original_response: Any = None,
               credentials: Any = None) -> HttpResponse:
    """What django-axes answers while an account or an address is locked (429)."""
    cool_off = settings.AXES_COOLOFF_TIME
    return render(request, "registration/locked_out.html", {
        "cooloff_timedelta": cool_off,
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else 0,
    }, status=429)
