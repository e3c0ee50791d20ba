from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "diemcau.media"
    label = "media"
    verbose_name = _("Live meetings (rooms, joining, control)")

    def ready(self) -> None:
        from diemcau.ui import status

        from .models import QUALITY_COLOURS, Quality

        status.register("quality", Quality, QUALITY_COLOURS)
