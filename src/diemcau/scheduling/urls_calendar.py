"""Calendar, public schedule and ICS feeds (R14)."""

from django.urls import URLPattern, path, re_path

from . import calendar_views as views

app_name = "calendar"

urlpatterns: list[URLPattern] = [
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/events.json", views.events_json, name="events"),
    path("calendar/meetings/<int:pk>.ics", views.meeting_ics_view, name="meeting_ics"),
    path("calendar/endpoints/", views.endpoint_pick, name="endpoint_pick"),
    path("calendar/endpoints/<int:pk>/", views.endpoint_page, name="endpoint"),
    path("calendar/endpoints/<int:pk>/busy.json", views.endpoint_busy_json, name="endpoint_busy"),
    path("calendar/load/", views.load_page, name="load"),
    path("calendar/load.json", views.load_json, name="load_json"),
    path("calendar/feeds/", views.feed_list, name="feeds"),
    path("calendar/feeds/<int:pk>/revoke/", views.feed_revoke, name="feed_revoke"),
    # No login: the token in the link is the key (only its hash is stored).
    re_path(r"^feeds/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", views.feed, name="feed"),
    # No login: the schedule is published to every agency (ĐN Đ14.3).
    path("schedule/", views.public_schedule, name="public_schedule"),
    path("schedule.ics", views.public_schedule_ics, name="public_schedule_ics"),
]
