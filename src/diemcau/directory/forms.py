"""Forms of the directory pages. They only shape and type the input; every rule is checked by
the services (which the views call), and the services' refusals come back onto these forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from diemcau.rulebooks.schema import RoomItem
from diemcau.ui.forms import DateInput

from .choices import (
    ContactRole,
    Network,
    SecurityCheckReason,
    SecurityCheckResult,
    TerminalKind,
)
from .models import Agency
from .services import (
    ContactInput,
    DeviceInput,
    EndpointInput,
    EvaluationInput,
    SecurityCheckInput,
)


class AgencyChoiceField(forms.ModelChoiceField):
    """Agencies indented by their place in the tree, so districts and their communes read
    as a tree in a plain select."""

    def label_from_instance(self, obj: Agency) -> str:
        return "\u00a0\u00a0" * obj.depth + obj.name


class EndpointForm(forms.Form):
    agency = AgencyChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    name = forms.CharField(
        label=_("Device name"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    terminal_kind = forms.ChoiceField(label=_("Terminal kind"), choices=TerminalKind.choices)
    network = forms.ChoiceField(label=_("Network"), choices=Network.choices)
    bandwidth_mbps = forms.DecimalField(
        label=_("Bandwidth (Mbps)"), max_digits=7, decimal_places=1, min_value=Decimal("0.1"),
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    dedicated_line = forms.BooleanField(
        label=_("Dedicated line, not shared with other systems during meetings"), required=False
    )
    vcs_ip = forms.GenericIPAddressField(
        label=_("VCS IP address"),
        required=False,
        help_text=_("The address the central MCU dials to call a VCS terminal."),
    )
    sip_uri = forms.CharField(
        label=_("SIP account"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "placeholder": "sip:ubnd.nhatrang@10.1.2.3"}),
        help_text=_("Optional: the terminal's SIP address, when it calls meetings from an "
                    "address other than its VCS IP or through a registrar."),
    )
    location = forms.CharField(label=_("Room location"), max_length=200, required=False)
    room_meets_standard = forms.BooleanField(
        label=_("The room meets the technical standard"), required=False
    )
    room_notes = forms.CharField(
        label=_("Room notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency_field = self.fields["agency"]
        assert isinstance(agency_field, forms.ModelChoiceField)
        agency_field.queryset = agencies.order_by("path")

    def to_input(self) -> EndpointInput:
        data = self.cleaned_data
        return EndpointInput(
            agency=data["agency"],
            name=data["name"],
            terminal_kind=data["terminal_kind"],
            network=data["network"],
            bandwidth_mbps=data["bandwidth_mbps"],
            dedicated_line=data["dedicated_line"],
            vcs_ip=data["vcs_ip"] or None,
            sip_uri=data.get("sip_uri") or None,
            location=data["location"],
            room_meets_standard=data["room_meets_standard"],
            room_notes=data["room_notes"],
        )


class EvaluationForm(forms.Form):
    """The operator's checklist of an endpoint's technical conditions (KH Đ9.3): one box per
    item of the rulebook's room standard (`room_standard.items`), with its article."""

    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what is missing when an item is not met."),
    )

    PREFIX = "item_"

    def __init__(self, *args: Any, items: list[RoomItem], english: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        remarks = self.fields.pop("remarks")
        for item in items:
            text = item.text_en if english else item.text_vi
            self.fields[self.PREFIX + item.key] = forms.BooleanField(
                label=f"{item.article} — {text}", required=False,
                help_text=_("Asked only of a room given control rights.")
                if item.control_only else "",
            )
        self.fields["remarks"] = remarks

    def item_fields(self) -> list[forms.BoundField]:
        return [self[self.PREFIX + item.key] for item in self.items]

    def to_input(self) -> EvaluationInput:
        data = self.cleaned_data
        return EvaluationInput(
            answers={item.key: bool(data.get(self.PREFIX + item.key)) for item in self.items},
            remarks=data["remarks"],
        )


class DeviceForm(forms.Form):
    """One more device of a room (KH Đ6.4)."""

    name = forms.CharField(
        label=_("Device name"), max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    terminal_kind = forms.ChoiceField(label=_("Terminal kind"), choices=TerminalKind.choices)
    vcs_ip = forms.GenericIPAddressField(label=_("VCS IP address"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def to_input(self) -> DeviceInput:
        data = self.cleaned_data
        return DeviceInput(name=data["name"], terminal_kind=data["terminal_kind"],
                           vcs_ip=data["vcs_ip"] or None, note=data["note"])


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConfirmForm(forms.Form):
    """No input: the button is the decision (approve, reinstate)."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class RepairForm(forms.Form):
    note = forms.CharField(
        label=_("What was repaired or upgraded"), widget=forms.Textarea(attrs={"rows": 3})
    )


class SecurityCheckForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason of the check"), choices=SecurityCheckReason.choices)
    result = forms.ChoiceField(label=_("Result"), choices=SecurityCheckResult.choices)
    checked_on = forms.DateField(label=_("Checked on"), widget=DateInput())
    police_reference = forms.CharField(
        label=_("Police reference"), max_length=120, required=False,
        help_text=_("Number of the record or letter of the provincial police."),
    )
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def to_input(self) -> SecurityCheckInput:
        data = self.cleaned_data
        return SecurityCheckInput(
            reason=data["reason"], result=data["result"], checked_on=data["checked_on"],
            police_reference=data["police_reference"], remarks=data["remarks"],
        )


class ContactForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ContactRole.choices)
    full_name = forms.CharField(label=_("Full name"), max_length=120)
    phone = forms.CharField(
        label=_("Phone"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    trained_on = forms.DateField(
        label=_("Trained on"), required=False, widget=DateInput(),
        help_text=_("Leave empty if the person has not been trained yet."),
    )
    change_reason = forms.CharField(
        label=_("Reason for the change"), max_length=200, required=False
    )

    def to_input(self) -> ContactInput:
        data = self.cleaned_data
        return ContactInput(
            role=data["role"], full_name=data["full_name"], phone=data["phone"],
            email=data["email"], trained_on=data["trained_on"],
            change_reason=data["change_reason"],
        )


class QuotaExceptionForm(forms.Form):
    extra_endpoints = forms.IntegerField(label=_("Extra endpoints"), min_value=1, initial=1)
    decision_reference = forms.CharField(
        label=_("Approving decision"), max_length=120,
        help_text=_("Number and date of the document of the Provincial People's Committee."),
    )
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class EndpointFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    agency = AgencyChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), required=False,
        empty_label=_("All agencies"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    network = forms.ChoiceField(label=_("Network"), required=False)
    terminal_kind = forms.ChoiceField(label=_("Terminal kind"), required=False)

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        from .choices import EndpointStatus

        super().__init__(*args, **kwargs)
        agency_field = self.fields["agency"]
        assert isinstance(agency_field, forms.ModelChoiceField)
        agency_field.queryset = agencies.order_by("path")
        any_choice = [("", _("Any"))]
        for name, choices in (
            ("status", EndpointStatus.choices),
            ("network", Network.choices),
            ("terminal_kind", TerminalKind.choices),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = any_choice + list(choices)
