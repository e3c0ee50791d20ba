"""The admin site is for administrators only; every change it makes goes through services."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from diemcau.core import audit
from diemcau.core.models import AuditEvent, User
from diemcau.core.permissions import Action, role_allows
from diemcau.core.services.users import USER_FIELDS, save_user


def _admin_site_has_permission(request: HttpRequest) -> bool:
    return bool(request.user.is_active and role_allows(request.user, Action.MANAGE_USERS))


admin.site.has_permission = _admin_site_has_permission  # type: ignore[method-assign]
admin.site.site_header = _("diemcau administration")


@admin.register(User)
class DiemcauUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "role", "agency", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("agency",)
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
