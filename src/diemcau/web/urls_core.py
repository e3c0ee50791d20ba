from django.urls import path

from . import audit_views, token_views

app_name = "core"

urlpatterns = [
    path("audit/", audit_views.audit_list, name="audit_list"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
    path("audit/verify/", audit_views.audit_verify, name="audit_verify"),
    path("audit/<int:seq>/", audit_views.audit_detail, name="audit_detail"),
    path("tokens/", token_views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
]
