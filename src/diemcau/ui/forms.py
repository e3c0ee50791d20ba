import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from diemcau.core import date_bounds
from diemcau.core.api_inputs import is_id


class DateInput(forms.DateInput):
    """A native date picker; the value is always sent as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


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
