"""Pages of the notifications app: the user's own messages and their delivery choices."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from diemcau.core.models import User
from diemcau.core.services.users import set_message_language
from diemcau.ui.pagination import paginate
from diemcau.ui.service_calls import call_service

from . import selectors, services
from .forms import PreferencesForm
from .models import Channel, Notification

PER_PAGE = 30


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = paginate(request, selectors.inbox(user), PER_PAGE)
    for note in context["page_obj"]:
        note.shown = note.text(outside=False)  # in the page's language
    context["unread"] = selectors.unread_count(user)
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one message read; with `open`, go on to the page it links to."""
    user = _user(request)
    notification = get_object_or_404(Notification, pk=pk, user=user, channel=Channel.IN_APP)
    call_service(request, forms.Form(), lambda: services.mark_read(notification, actor=user))
    link = notification.link
    if (
        "open" in request.POST
        and link
        and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    outcome = call_service(request, forms.Form(), lambda: services.mark_all_read(user, actor=user))
    if outcome.ok and outcome.value:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:list")


@transaction.atomic
def _save_preferences(user: User, form: PreferencesForm) -> None:
    services.set_preferences(user, form.choices(), actor=user)
    set_message_language(user, form.cleaned_data["language"] or user.language, actor=user)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    webhook_available = services.webhook_configured()
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        current=services.preferences_of(user),
        webhook_available=webhook_available,
        language=user.language,
    )
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, form, lambda: _save_preferences(user, form)
        )
        if outcome.ok:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "webhook_available": webhook_available, "in_app": Channel.IN_APP.label},
    )
