"""The desk's forms. They only read the input; the services check it and the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from diemcau.core.models import User
from diemcau.directory.models import Agency
from diemcau.ui.forms import DateInput, DateTimeInput, in_window

from .choices import DeviceKind, DeviceWorkKind, PatchStatus, ProviderKind, RouteStatus, TaskKind
from .models import Device, LineProvider
from .services.equipment import DeviceInput, NodeVersionsInput, TaskInput
from .services.routing import ProviderInput


def _date(label: Any, required: bool = True, **extra: Any) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(),
                           validators=[in_window], **extra)


def _datetime(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, widget=DateTimeInput(), validators=[in_window])


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    model = forms.CharField(label=_("Model"), max_length=120)
    serial = forms.CharField(label=_("Serial number"), max_length=120, required=False)
    asset_code = forms.CharField(label=_("Asset code"), max_length=60, required=False)
    purchased_on = _date(_("Purchased on"), required=False)
    warranty_until = _date(_("Warranty until"), required=False)
    in_service = forms.BooleanField(label=_("In service"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(
        attrs={"rows": 2}))

    def to_input(self) -> DeviceInput:
        return DeviceInput(**self.cleaned_data)


class DeviceWorkForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceWorkKind.choices)
    done_on = _date(_("Done on"))
    description = forms.CharField(label=_("What was done"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class LineForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Line provider"),
                                      queryset=LineProvider.objects.filter(is_active=True))
    circuit_reference = forms.CharField(label=_("Line or contract reference"), max_length=120,
                                        required=False)


class NodeVersionsForm(forms.Form):
    hardware = forms.CharField(label=_("Hardware"), max_length=200, required=False)
    operating_system = forms.CharField(label=_("Operating system"), max_length=120,
                                       required=False)
    software_version = forms.CharField(label=_("Media server version"), max_length=120,
                                       required=False)
    patch_status = forms.ChoiceField(label=_("Patch status"), choices=PatchStatus.choices)
    patched_on = _date(_("Last patched on"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def to_input(self) -> NodeVersionsInput:
        return NodeVersionsInput(**self.cleaned_data)


class PlanForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies  # type: ignore[attr-defined]


class TaskForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices)
    title = forms.CharField(label=_("Task"), max_length=250)
    due_on = _date(_("Due on"))
    device: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Device"), queryset=Device.objects.none(), required=False)
    estimated_cost = forms.DecimalField(label=_("Estimated cost (VND)"), required=False,
                                        min_value=0, max_digits=14, decimal_places=0)

    def __init__(self, *args: Any, devices: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = devices  # type: ignore[attr-defined]

    def to_input(self) -> TaskInput:
        data = self.cleaned_data
        return TaskInput(kind=data["kind"], title=data["title"], due_on=data["due_on"],
                         device_id=data["device"].pk if data["device"] else None,
                         estimated_cost=data["estimated_cost"])


class DoneForm(forms.Form):
    done_on = _date(_("Done on"))
    note = forms.CharField(label=_("Note"), max_length=250, required=False)


def _technicians() -> QuerySet[User]:
    from diemcau.core.permissions import operators

    return operators().order_by("first_name", "username")


class TechnicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class ShiftForm(forms.Form):
    technician = TechnicianChoice(label=_("Technician"), queryset=User.objects.none())
    starts_at = _datetime(_("Starts"))
    ends_at = _datetime(_("Ends"))
    note = forms.CharField(label=_("Note"), max_length=250, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = _technicians()  # type: ignore[attr-defined]


class HandoverForm(forms.Form):
    technician = TechnicianChoice(label=_("Hand over to"), queryset=User.objects.none())
    note = forms.CharField(label=_("Handover note"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("What is going on: meetings, open incidents, "
                                       "anything the next technician must know."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = _technicians()  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    technician = TechnicianChoice(label=_("Technician"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = _technicians()  # type: ignore[attr-defined]


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProviderKind.choices)
    email = forms.EmailField(label=_("Incident e-mail address"), required=False)
    webhook_url = forms.CharField(label=_("Incident webhook URL"), max_length=500,
                                  required=False,
                                  help_text=_("When given, incidents go to the webhook "
                                              "instead of the e-mail address."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def to_input(self) -> ProviderInput:
        return ProviderInput(**self.cleaned_data)


class ProviderContactForm(forms.Form):
    area = forms.ModelChoiceField(label=_("Area"), queryset=Agency.objects.all(),
                                  required=False,
                                  help_text=_("Leave empty for the whole province."))
    full_name = forms.CharField(label=_("Full name"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    email = forms.EmailField(label=_("Email"), required=False)


class ReplyForm(forms.Form):
    status = forms.ChoiceField(label=_("Reply"), choices=[
        (RouteStatus.ACKNOWLEDGED, RouteStatus.ACKNOWLEDGED.label),
        (RouteStatus.RESOLVED, RouteStatus.RESOLVED.label)])
    reply = forms.CharField(label=_("What was done, or when it will be"), max_length=5000,
                            required=False, widget=forms.Textarea(attrs={"rows": 3}))
