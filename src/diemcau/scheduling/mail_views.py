"""The official mailbox's page (KH Đ13.2a): what each message became, and the agencies'
official addresses the operators keep."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from diemcau.core import calendar
from diemcau.core.models import User
from diemcau.core.permissions import Action, role_allows
from diemcau.directory.models import Agency
from diemcau.rulebooks import active_rulebook
from diemcau.ui.pagination import paginate
from diemcau.ui.service_calls import call_service

from . import mailbox
from .models import OfficialAddress
from .permissions import mailed_visible_to
from .services import official_addresses


class OfficialAddressForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency"),
                                    queryset=Agency.objects.filter(is_active=True))
    address = forms.EmailField(label=gettext_lazy("Official e-mail address"), max_length=254)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_page(request: HttpRequest) -> HttpResponse:
    """The messages read from the official mailbox, newest first, each with its arrival, the
    time it counts from (office hours, KH Đ13.2a) and its draft; the operators add and remove
    the agencies' official addresses."""
    user = _user(request)
    manages = role_allows(user, Action.DECIDE_MEETING)
    if not role_allows(user, Action.VIEW_MEETING):
        raise Forbidden(_("Your role or agency does not allow this."))
    form = OfficialAddressForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not manages:
            raise Forbidden(_("Only the MCU operators keep the official addresses."))
        if form.is_valid():
            outcome = call_service(request, form, lambda: official_addresses.add_official_address(
                form.cleaned_data["agency"], form.cleaned_data["address"], actor=user))
            if outcome.ok:
                messages.success(request, _("Official address added."))
                return redirect("scheduling:mailbox")
    rulebook = active_rulebook()
    pages = paginate(request, mailed_visible_to(user).select_related("agency", "meeting"), 50)
    rows = [(record, calendar.registration_received_at(rulebook, record.received_at))
            for record in pages["page_obj"].object_list]
    return render(request, "scheduling/mailbox.html", {
        **pages,
        "rows": rows,
        "form": form,
        "manages": manages,
        "addresses": (OfficialAddress.objects.select_related("agency").all()
                      if manages else OfficialAddress.objects.none()),
        "mailbox_on": mailbox.configured() is not None,
        "official_email": rulebook.registration.official_email,
        "article": rulebook.cite(rulebook.office_hours.article),
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def address_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    official = get_object_or_404(OfficialAddress, pk=pk)
    form = forms.Form(request.POST)
    outcome = call_service(request, form, lambda: official_addresses.remove_official_address(
        official, actor=user))
    if outcome.ok:
        messages.success(request, _("Official address removed."))
    return redirect("scheduling:mailbox")
