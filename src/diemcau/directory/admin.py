"""Directory objects are read-only in the admin: changes go through the pages and the API,
whose services check the rulebook. The lists use the same scoped querysets."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Agency, Contact, Endpoint
from .permissions import agencies_visible_to, contacts_visible_to, endpoints_visible_to


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active)


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "abbreviation", "parent", "admin_code")
    list_filter = ("kind",)
    search_fields = ("name", "abbreviation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agency]:
        return agencies_visible_to(request.user).select_related("parent")  # type: ignore[arg-type]


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "agency", "terminal_kind", "network", "status")
    list_filter = ("status", "network", "terminal_kind")
    search_fields = ("name", "agency__name")
    exclude = ("account_password_hash",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return endpoints_visible_to(request.user).select_related("agency")  # type: ignore[arg-type]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("full_name", "role", "endpoint", "phone", "active_from", "active_until")
    list_filter = ("role",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return contacts_visible_to(request.user).select_related("endpoint")  # type: ignore[arg-type]
