from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
]
