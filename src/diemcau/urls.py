from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from diemcau.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("diemcau.media.urls")),
    path("", include("diemcau.proceedings.urls")),
    path("", include("diemcau.archive.urls")),
    path("", include("diemcau.reports.urls")),
    path("", include("diemcau.web.urls")),
]

# A bad request's page says what was wrong (core.middleware, the calendar's dates).
handler400 = "diemcau.ui.service_calls.bad_request"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
