"""Pages of the archive (R19, R27)."""

from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("archive/", views.index, name="index"),
    path("archive/meetings/<int:pk>/", views.meeting, name="meeting"),
    path("archive/meetings/<int:pk>/status.json", views.status, name="status"),
    path("archive/meetings/<int:pk>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
    path("archive/meetings/<int:pk>/hand-over/", views.hand_over, name="hand_over"),
    path("archive/meetings/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("archive/meetings/<int:pk>/retry/", views.retry, name="retry"),
    path("archive/meetings/<int:pk>/purge/", views.purge, name="purge"),
    path("archive/meetings/<int:pk>/materials/", views.upload, name="upload"),
    path("archive/meetings/<int:pk>/requests/", views.request_access, name="request"),
    path("archive/materials/<int:pk>/remove/", views.remove_material, name="remove_material"),
    path("archive/requests/<int:pk>/decide/", views.decide, name="decide"),
    path("archive/download/<str:kind>/<int:object_id>/", views.download, name="download"),
    path("archive/files/<str:token>/", views.file, name="file"),
]
