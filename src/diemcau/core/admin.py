"""The admin site is for administrators only; every change it makes goes through services."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from diemcau.core import audit
from diemcau.core.models import AuditEvent, User
from diemcau.core.permissions import Action, role_allows
from diemcau.core.services import accounts
from diemcau.core.services.users import USER_FIELDS, save_user
from diemcau.core.text import hidden_character_errors

# Devices change only through the enrolment page and the audited reset below.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)

# Who is setting a password on the admin's password page (its form has no request).
_password_actor: ContextVar[User | None] = ContextVar("diemcau_password_actor", default=None)


@contextmanager
def _setting_password(actor: User) -> Iterator[None]:
    token = _password_actor.set(actor)
    try:
        yield
    finally:
        _password_actor.reset(token)


class AuditedPasswordForm(AdminPasswordChangeForm):
    """The admin's "set password" form; the change goes through the audited service."""

    def save(self, commit: bool = True) -> Any:
        actor = _password_actor.get()
        assert actor is not None, "only on the admin's password page"
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        self.user = accounts.set_password(self.user, password, actor=actor)
        return self.user


class _NamesWithoutHiddenCharacters:
    """Names may not carry zero-width or text-direction characters (core.text)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        fields = {name: data.get(name) for name in ("username", "first_name", "last_name")
                  if name in data}
        for name, errors in hidden_character_errors(fields).items():
            for error in errors:
                self.add_error(name, error)  # type: ignore[attr-defined]
        return data  # type: ignore[no-any-return]


class DiemcauUserChangeForm(_NamesWithoutHiddenCharacters, UserChangeForm):
    pass


class DiemcauUserCreationForm(_NamesWithoutHiddenCharacters, UserCreationForm):
    pass


def _admin_site_has_permission(request: HttpRequest) -> bool:
    return bool(request.user.is_active and role_allows(request.user, Action.MANAGE_USERS))


admin.site.has_permission = _admin_site_has_permission  # type: ignore[method-assign]


def _sign_in_through_the_site(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's own sign-in form knows no two-factor code: everyone signs in through the
    site's page (core.two_factor), then comes back."""
    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login
    from django.urls import reverse

    return redirect_to_login(request.GET.get("next") or reverse("admin:index"),
                             settings.LOGIN_URL)


admin.site.login = _sign_in_through_the_site  # type: ignore[method-assign,assignment]
admin.site.site_header = _("diemcau administration")


@admin.register(User)
class DiemcauUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "role", "agency", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("agency",)
    form = DiemcauUserChangeForm
    add_form = DiemcauUserCreationForm
    change_password_form = AuditedPasswordForm
    actions = ["unlock_sign_in", "reset_two_factor"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Role and agency"), {"fields": ("role", "agency", "phone")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Role and agency"), {"fields": ("role", "agency")}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _admin_site_has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _admin_site_has_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _admin_site_has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _admin_site_has_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted: the audit log refers to them

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        before = None
        if change:
            before = audit.snapshot(User.objects.get(pk=obj.pk), USER_FIELDS)
        save_user(obj, actor=request.user, before=before)  # type: ignore[arg-type]

    def user_change_password(self, request: HttpRequest, id: str,
                             form_url: str = "") -> HttpResponse:
        with _setting_password(request.user):  # type: ignore[arg-type]
            return super().user_change_password(request, id, form_url)

    @admin.action(description=_("Unlock sign-in (after too many failed attempts)"))
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            accounts.unlock_sign_in(actor=request.user,  # type: ignore[arg-type]
                                    username=user.get_username())
        self.message_user(request, ngettext("%(count)d account unlocked.",
                                            "%(count)d accounts unlocked.", queryset.count())
                          % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Reset two-factor sign-in (a lost phone)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            accounts.remove_two_factor(user, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("Two-factor sign-in reset: they enrol again at their "
                                     "next sign-in."), messages.SUCCESS)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    """Failed sign-ins counted by django-axes, by account and address; unlocking is audited."""

    list_display = ("attempt_time", "username", "ip_address", "failures_since_start",
                    "user_agent")
    list_filter = ("attempt_time",)
    search_fields = ("username", "ip_address")
    fields = ("attempt_time", "username", "ip_address", "failures_since_start", "user_agent",
              "path_info")
    readonly_fields = fields
    actions = ["unlock"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _admin_site_has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _admin_site_has_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audited "unlock" action instead

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django offers actions only to those with a change or delete right: "unlock" is the
        # administrators' own.
        if not _admin_site_has_permission(request):
            return {}
        return {"unlock": self.get_action("unlock")}  # type: ignore[dict-item]

    @admin.action(description=_("Unlock these accounts and addresses"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        pairs = {(attempt.username, attempt.ip_address) for attempt in queryset}
        for username, address in sorted(pairs, key=str):
            accounts.unlock_sign_in(actor=request.user,  # type: ignore[arg-type]
                                    username=username or None)
            if address:
                accounts.unlock_sign_in(actor=request.user,  # type: ignore[arg-type]
                                        address=address)
        self.message_user(request, _("Unlocked."), messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return role_allows(request.user, Action.VIEW_AUDIT)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_allows(request.user, Action.VIEW_AUDIT)

    list_display = ("seq", "at", "actor_username", "ip", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor_username", "object_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
