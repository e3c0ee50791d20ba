"""Pages of the live meeting (the WebSockets are in routing.py)."""

from django.urls import path

from . import views

app_name = "media"

urlpatterns = [
    path("live/", views.operator_console, name="operator_console"),
    path("live/meetings/<int:pk>/console/", views.console, name="console"),
    path("live/meetings/<int:pk>/join/", views.join_check, name="join"),
    path("live/meetings/<int:pk>/room/", views.room, name="room"),
    path("live/meetings/<int:pk>/grant/", views.grant_by_login, name="grant"),
    path("live/meetings/<int:pk>/links/", views.link_issue, name="link_issue"),
    path("live/meetings/<int:pk>/attendance.csv", views.attendance_csv,
         name="attendance_csv"),
    path("live/links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
    path("j/<str:token>/", views.link_check, name="link_check"),
    path("j/<str:token>/room/", views.link_room, name="link_room"),
    path("j/<str:token>/grant/", views.grant_by_link, name="link_grant"),
]
