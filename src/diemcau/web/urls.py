from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("diemcau.directory.urls")),
    path("", include("diemcau.web.urls_core")),
    path("", include("diemcau.scheduling.urls")),
    path("", include("diemcau.scheduling.urls_calendar")),
    path("", include("diemcau.notifications.urls")),
]
