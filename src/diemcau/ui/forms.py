"""Form widgets and fields every page uses.

Dates and times are typed and shown as dd/mm/yyyy and HH:MM on 24 hours whatever the
browser's locale (a native `<input type="date">` follows the browser: 05/01/2026 may be the
1st of May or the 5th of January, with AM/PM). The inputs are plain text in that format,
which the server reads (`diemcau.ui.formats`); `ui/datepicker.js` adds a calendar to pick from
(flatpickr, vendored, in Vietnamese on Vietnamese pages).
"""

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from diemcau.core import date_bounds
from diemcau.core.api_inputs import is_id

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


def in_window(value: dt.date | dt.datetime | None) -> None:
    """Validator of a date or time field: inside the window of dates the system accepts
    (`core.date_bounds`), so year 1 or 9999 is a field error, not calendar arithmetic."""
    message = date_bounds.window_error(value)
    if message:
        raise ValidationError(message, code="outside_window")


class IdsMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's multiple choice of objects, refusing a value that is no id the database can
    hold (2^63 and beyond reached the database, where SQLite failed) as an invalid choice."""

    def _check_values(self, value: Any) -> Any:
        key = self.to_field_name or "pk"
        if key == "pk":
            for pk in value:
                if not is_id(str(pk)):
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super()._check_values(value)  # type: ignore[misc]  # not in the stubs
