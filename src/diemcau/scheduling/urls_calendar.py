"""Calendar, public schedule and ICS feeds (R14)."""

from django.urls import URLPattern

app_name = "calendar"

urlpatterns: list[URLPattern] = []
