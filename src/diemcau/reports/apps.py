from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "diemcau.reports"
    label = "reports"
    verbose_name = _("Statistics and reports")

    def ready(self) -> None:
        from diemcau.notifications import kinds

        from . import notices, tasks  # noqa: F401  (the worker's periodic report)

        for kind, renderer in notices.RENDERERS.items():
            kinds.register(kind, renderer)
