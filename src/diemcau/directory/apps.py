from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "diemcau.directory"
    label = "directory"
    verbose_name = _("Directory of agencies and endpoints")

    def ready(self) -> None:
        from diemcau.ui import status

        from .choices import ENDPOINT_STATUS_COLOURS, EndpointStatus

        status.register("endpoint", EndpointStatus, ENDPOINT_STATUS_COLOURS)
