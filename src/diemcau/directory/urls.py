from django.urls import path

from . import room_views, views

app_name = "directory"

urlpatterns = [
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
    path(
        "agencies/<int:pk>/quota-exceptions/new/",
        views.quota_exception_create,
        name="quota_exception_create",
    ),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
    path("endpoints/new/", views.endpoint_create, name="endpoint_create"),
    path("endpoints/name-suggestion/", views.name_suggestion, name="name_suggestion"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("endpoints/<int:pk>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<int:pk>/evaluate/", views.endpoint_evaluate, name="endpoint_evaluate"),
    path("endpoints/<int:pk>/approve/", views.endpoint_approve, name="endpoint_approve"),
    path("endpoints/<int:pk>/suspend/", views.endpoint_suspend, name="endpoint_suspend"),
    path("endpoints/<int:pk>/reinstate/", views.endpoint_reinstate, name="endpoint_reinstate"),
    path("endpoints/<int:pk>/repair/", views.endpoint_report_repair, name="endpoint_repair"),
    path(
        "endpoints/<int:pk>/security-check/",
        views.endpoint_security_check,
        name="endpoint_security_check",
    ),
    path("endpoints/<int:pk>/contacts/new/", views.contact_set, name="contact_set"),
    path("contacts/<int:pk>/end/", views.contact_end, name="contact_end"),
    path("endpoints/<int:pk>/devices/new/", room_views.device_add, name="device_add"),
    path("devices/<int:pk>/remove/", room_views.device_remove, name="device_remove"),
    path("change-requests/", room_views.change_request_list, name="change_request_list"),
    path(
        "change-requests/<int:pk>/",
        room_views.change_request_detail,
        name="change_request_detail",
    ),
]
