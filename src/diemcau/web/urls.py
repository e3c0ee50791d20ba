from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import account_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", account_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account_views.password_change, name="password_change"),
    path("account/two-factor/", account_views.two_factor_page, name="two_factor"),
    path("account/two-factor/remove/", account_views.two_factor_remove,
         name="two_factor_remove"),
    path("", include("diemcau.directory.urls")),
    path("", include("diemcau.web.urls_core")),
    path("", include("diemcau.scheduling.urls")),
    path("", include("diemcau.scheduling.urls_calendar")),
    path("", include("diemcau.notifications.urls")),
]
