"""Pages of the session's script and the closing checklist."""

from django.urls import path

from . import views

app_name = "proceedings"

urlpatterns = [
    path("meetings/<int:pk>/script/", views.script_page, name="script"),
    path("meetings/<int:pk>/script/next/", views.script_next, name="script_next"),
    path("script/items/<int:pk>/", views.item_edit, name="item_edit"),
    path("script/items/<int:pk>/move/", views.item_move, name="item_move"),
    path("script/items/<int:pk>/remove/", views.item_remove, name="item_remove"),
    path("script/items/<int:pk>/start/", views.item_start, name="item_start"),
    path("meetings/<int:pk>/closing/", views.closing_page, name="closing"),
    path("closing/open/", views.open_closing, name="open_closing"),
]
