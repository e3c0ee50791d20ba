from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/behind/", views.behind, name="behind"),
    path("reports/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("reports/export.pdf", views.export_pdf, name="export_pdf"),
    path("reports/export/<slug:table>.csv", views.export_csv, name="export_csv"),
    path("reports/make/", views.make, name="make"),
    path("reports/stored/<int:pk>/", views.stored_detail, name="stored_detail"),
    path("reports/stored/<int:pk>/again/", views.again, name="again"),
    path("reports/stored/<int:pk>/report.<str:extension>", views.stored_file,
         name="stored_file"),
    path("reports/stored/<int:pk>/<slug:table>.csv", views.stored_csv, name="stored_csv"),
]
