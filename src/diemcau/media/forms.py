"""Forms of the live-meeting pages. They only shape the input; the services check who may do
what (see `diemcau.media.joining`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from diemcau.directory.models import Endpoint
from diemcau.scheduling.forms import LocalDateTimeInput


class EndpointChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} — {obj.agency.name}"


class JoinLinkForm(forms.Form):
    """A join link for one endpoint of the meeting; without a date it lasts until an hour
    after the meeting's end."""

    endpoint = EndpointChoiceField(label=_("Endpoint"), queryset=Endpoint.objects.none())
    valid_until = forms.DateTimeField(
        label=_("Valid until"), required=False, widget=LocalDateTimeInput(),
        help_text=_("Empty: until one hour after the meeting's end."),
    )

    def __init__(self, *args: Any, endpoints: QuerySet[Endpoint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["endpoint"]
        assert isinstance(field, EndpointChoiceField)
        field.queryset = endpoints.select_related("agency").order_by("agency__path", "name")

