"""How the reports' messages read (`notifications.kinds`), in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from diemcau.notifications.kinds import Renderer, Text

REPORT_READY = "report.ready"


def report_ready(params: Mapping[str, Any], outside: bool) -> Text:
    values = {"period": params.get("period", ""), "scope": params.get("scope", ""),
              "article": params.get("article", "")}
    return Text(
        subject=_("Report ready: %(period)s, %(scope)s") % values,
        body=_("The report for %(period)s (%(scope)s) required by %(article)s has been made. "
               "Open it in the system to read and download it.") % values,
    )


RENDERERS: dict[str, Renderer] = {REPORT_READY: report_ready}
