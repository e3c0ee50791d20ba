"""Form widgets every page uses.

Dates and times are typed and shown as dd/mm/yyyy and HH:MM on 24 hours whatever the
browser's locale (a native `<input type="date">` follows the browser: 05/01/2026 may be the
1st of May or the 5th of January, with AM/PM). The inputs are plain text in that format,
which the server reads (`diemcau.ui.formats`); `ui/datepicker.js` adds a calendar to pick from
(flatpickr, vendored, in Vietnamese on Vietnamese pages).
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_INPUT = "%d/%m/%Y"
DATETIME_INPUT = "%d/%m/%Y %H:%M"


class DateInput(forms.DateInput):
    """A date, typed or picked: dd/mm/yyyy."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "data-picker": "date",
            "placeholder": _("dd/mm/yyyy"),
            "inputmode": "numeric",
            "autocomplete": "off",
            "pattern": r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}",
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format=DATE_INPUT)


class DateTimeInput(forms.DateTimeInput):
    """A local date and time (Asia/Ho_Chi_Minh), typed or picked: dd/mm/yyyy HH:MM."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "data-picker": "datetime",
            "placeholder": _("dd/mm/yyyy hh:mm"),
            "autocomplete": "off",
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format=DATETIME_INPUT)
