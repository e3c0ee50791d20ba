"""The user's own API tokens: create (the secret is shown once) and revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from diemcau.core.models import ApiToken, User
from diemcau.ui.service_calls import call_service, no_store


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user





class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. the name of the integration."),
    )


def _token_page(request: HttpRequest, form: TokenForm, created: tuple[ApiToken, str] | None
                ) -> HttpResponse:
    user = _user(request)
    response = render(request, "core/tokens.html", {
        "form": form,
        "tokens": ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at"),
        "created_token": created[0] if created else None,
        "raw_token": created[1] if created else None,
    })
    return no_store(response) if created else response


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; creating one shows its secret on this response only."""
    from diemcau.core.services.tokens import create_api_token

    user = _user(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, form, lambda: create_api_token(user, form.cleaned_data["name"], actor=user)
        )
        if outcome.ok and outcome.value is not None:
            return _token_page(request, TokenForm(), outcome.value)
    return _token_page(request, form, None)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    from diemcau.core.services.tokens import revoke_api_token

    user = _user(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    outcome = call_service(request, forms.Form(), lambda: revoke_api_token(token, actor=user))
    if outcome.ok:
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("core:token_list")
