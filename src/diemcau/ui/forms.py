from django import forms


class DateInput(forms.DateInput):
    """A native date picker; the value is always sent as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
