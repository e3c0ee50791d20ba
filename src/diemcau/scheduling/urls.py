from django.urls import path

from . import booking_views, mail_views, views

app_name = "scheduling"

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/rules/", views.rules_panel, name="rules_panel"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/submit/", views.meeting_submit, name="meeting_submit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/invitation/", views.meeting_invitation, name="meeting_invitation"),
    path("meetings/<int:pk>/accept/", views.meeting_accept, name="meeting_accept"),
    path("meetings/<int:pk>/refuse/", booking_views.meeting_refuse, name="meeting_refuse"),
    path("meetings/<int:pk>/invitation.pdf", booking_views.meeting_invitation_pdf,
         name="meeting_invitation_pdf"),
    path("series/<int:pk>/decide/", booking_views.series_decide, name="series_decide"),
    path("meetings/<int:pk>/checks/<int:check_pk>/", views.check_record, name="check_record"),
    path("meetings/<int:pk>/incidents/new/", views.incident_report, name="incident_report"),
    path("incidents/<int:pk>/", views.incident_update, name="incident_update"),
    path("operator/queue/", views.operator_queue, name="operator_queue"),
    path("operator/queue/count/", views.queue_count, name="queue_count"),
    path("mailbox/", mail_views.mailbox_page, name="mailbox"),
    path("mailbox/addresses/<int:pk>/remove/", mail_views.address_remove,
         name="official_address_remove"),
]
