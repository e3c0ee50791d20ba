"""Forms of the meeting pages. They only shape and type the input; every rule (lead times,
who registers, admitted endpoints, capacity…) is checked by the services, whose refusals come
back onto these forms with the article they cite (see `diemcau.ui.service_calls`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from diemcau.directory.forms import AgencyChoiceField
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.naming import ascii_fold
from diemcau.rulebooks import Rulebook
from diemcau.ui.forms import DateInput, DateTimeInput, IdsMultipleChoiceField, in_window

from .choices import (
    Classification,
    IncidentStatus,
    MeetingStatus,
    MeetingType,
    Recurrence,
    RefusalReason,
    Urgency,
    check_item_label,
)
from .services.registration import MeetingInput

# A local date and time, dd/mm/yyyy HH:MM whatever the browser's locale (ui.forms).
LocalDateTimeInput = DateTimeInput


class EndpointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Endpoint) -> str:
        return obj.name


class HostEndpointSelect(forms.Select):
    """Each option says its agency (`data-agency`), so the page offers only the chosen host
    agency's endpoints (scheduling.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):  # type: ignore[no-untyped-def]
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-agency"] = str(instance.agency_id)
        return option


class EndpointCheckboxes(forms.CheckboxSelectMultiple):
    """Participant endpoints as checkboxes with a search text (name and agency, accents
    optional) that the filter box of the page matches (scheduling.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):  # type: ignore[no-untyped-def]
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            text = f"{instance.name} {instance.agency.name}"
            option["attrs"]["data-search"] = ascii_fold(text).casefold()
            option["attrs"]["data-agency-name"] = instance.agency.name
        return option


class MeetingForm(forms.Form):
    """Registration of a meeting (R7): what ĐN Đ10–11 and KH Đ12–13 ask for."""

    title = forms.CharField(label=_("Title"), max_length=250)
    meeting_type = forms.ChoiceField(
        label=_("Meeting type"), choices=MeetingType.choices, initial=MeetingType.WORKING
    )
    host_agency = AgencyChoiceField(label=_("Host agency"), queryset=Agency.objects.none())
    host_endpoint = EndpointChoiceField(
        label=_("Host endpoint"), queryset=Endpoint.objects.none(), widget=HostEndpointSelect
    )
    participants = IdsMultipleChoiceField(
        label=_("Participant endpoints"),
        queryset=Endpoint.objects.none(),
        required=False,
        widget=EndpointCheckboxes(attrs={"class": "form-check-input"}),
    )
    rehearsal_starts_at = forms.DateTimeField(
        label=_("Rehearsal starts"), required=False, widget=LocalDateTimeInput(),
        validators=[in_window],
    )
    rehearsal_ends_at = forms.DateTimeField(
        label=_("Rehearsal ends"), required=False, widget=LocalDateTimeInput(),
        validators=[in_window],
    )
    starts_at = forms.DateTimeField(
        label=_("Official start"), widget=LocalDateTimeInput(), validators=[in_window]
    )
    ends_at = forms.DateTimeField(
        label=_("Expected end"), widget=LocalDateTimeInput(), validators=[in_window]
    )
    place = forms.CharField(label=_("Place"), max_length=250)
    contact_name = forms.CharField(label=_("Contact person"), max_length=120)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    emergency_reason = forms.CharField(
        label=_("Reason for urgency"),
        max_length=250,
        required=False,
        help_text=_("Natural disaster, epidemic, fire, a directive of the central government…"),
    )
    classification = forms.ChoiceField(
        label=_("Classification"), choices=Classification.choices, initial=Classification.NORMAL
    )
    recording_requested = forms.BooleanField(label=_("Record the meeting"), required=False)
    support_notes = forms.CharField(
        label=_("Other support requested"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    invitation = forms.FileField(
        label=_("Invitation letter (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
        help_text=_("The signed and stamped letter, as a PDF of at most 10 MB."),
    )
    recurrence = forms.ChoiceField(
        label=_("Repeat"),
        required=False,
        choices=[("", _("Does not repeat")), *Recurrence.choices],
    )
    until = forms.DateField(
        label=_("Repeat until"), required=False, widget=DateInput(), validators=[in_window]
    )

    def __init__(
        self,
        *args: Any,
        agencies: QuerySet[Agency],
        host_endpoints: QuerySet[Endpoint],
        participants: QuerySet[Endpoint],
        rulebook: Rulebook,
        allow_series: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_queryset("host_agency", agencies.order_by("path"))
        for name, endpoints in (("host_endpoint", host_endpoints), ("participants", participants)):
            self._set_queryset(
                name, endpoints.select_related("agency").order_by("agency__path", "name")
            )
        if not rulebook.rehearsal.supported:  # ĐN has no rehearsal
            del self.fields["rehearsal_starts_at"], self.fields["rehearsal_ends_at"]
        if not allow_series:  # a draft being edited is one meeting
            del self.fields["recurrence"], self.fields["until"]

    def _set_queryset(self, name: str, queryset: QuerySet[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset

    @property
    def has_rehearsal(self) -> bool:
        return "rehearsal_starts_at" in self.fields

    @property
    def allows_series(self) -> bool:
        return "recurrence" in self.fields

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("recurrence") and not data.get("until"):
            self.add_error("until", _("Give the date of the last meeting of the series."))
        return data

    def to_input(self) -> MeetingInput:
        data = self.cleaned_data
        return MeetingInput(
            title=data["title"],
            host_agency=data["host_agency"],
            host_endpoint=data["host_endpoint"],
            participants=list(data["participants"]),
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            place=data["place"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            meeting_type=data["meeting_type"],
            rehearsal_starts_at=data.get("rehearsal_starts_at"),
            rehearsal_ends_at=data.get("rehearsal_ends_at"),
            urgency=data["urgency"],
            emergency_reason=data["emergency_reason"],
            classification=data["classification"],
            recording_requested=data["recording_requested"],
            support_notes=data["support_notes"],
            invitation=data.get("invitation") or None,
        )


class MeetingFilterForm(forms.Form):
    PERIODS = [
        ("upcoming", _("Upcoming and running")),
        ("past", _("Past")),
        ("all", _("All")),
    ]

    q = forms.CharField(label=_("Search"), required=False)
    period = forms.ChoiceField(label=_("When"), choices=PERIODS, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    host = AgencyChoiceField(
        label=_("Host agency"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("All hosts"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=DateInput(), validators=[in_window]
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=DateInput(), validators=[in_window]
    )

    def __init__(self, *args: Any, hosts: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        host_field = self.fields["host"]
        assert isinstance(host_field, forms.ModelChoiceField)
        host_field.queryset = hosts.order_by("path")
        any_choice = [("", _("Any"))]
        for name, choices in (("status", MeetingStatus.choices), ("urgency", Urgency.choices)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = any_choice + list(choices)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class RefuseForm(forms.Form):
    """A refusal: a usual reason picked, or typed, or both; and maybe another time to take."""

    canned = forms.ChoiceField(
        label=_("Reason"), required=False, widget=forms.RadioSelect,
        choices=[("", _("Another reason (write it below)")), *RefusalReason.choices],
    )
    reason = forms.CharField(label=_("Details"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    proposed_starts_at = forms.DateTimeField(
        label=_("Propose another start"), required=False, widget=DateTimeInput(),
        validators=[in_window],
        help_text=_("Optional: the host can copy the meeting into a new registration at this "
                    "time in one click."))
    proposed_ends_at = forms.DateTimeField(label=_("Proposed end"), required=False,
                                           widget=DateTimeInput(), validators=[in_window])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("canned") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Pick a reason or write one."))
        start, end = data.get("proposed_starts_at"), data.get("proposed_ends_at")
        if bool(start) != bool(end):
            self.add_error("proposed_ends_at", _("Give both the start and the end."))
        return data

    def full_reason(self) -> str:
        """The reason as the host reads it: the usual reason, then the operator's words."""
        data = self.cleaned_data
        parts = [str(RefusalReason(data["canned"]).label)] if data.get("canned") else []
        if (data.get("reason") or "").strip():
            parts.append(data["reason"].strip())
        return " ".join(parts)

    def proposal(self) -> tuple[Any, Any] | None:
        data = self.cleaned_data
        if data.get("proposed_starts_at") and data.get("proposed_ends_at"):
            return data["proposed_starts_at"], data["proposed_ends_at"]
        return None


class SeriesDecisionForm(forms.Form):
    """A whole series at once: every waiting meeting accepted but the exceptions ticked."""

    exceptions = forms.MultipleChoiceField(
        label=_("Exceptions (refused)"), required=False, widget=forms.CheckboxSelectMultiple)
    canned = RefuseForm.base_fields["canned"]
    reason = forms.CharField(label=_("Details of the reason for the exceptions"),
                             required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, meetings: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exceptions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(m.pk), str(m.pk)) for m in meetings]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("exceptions") and not data.get("canned") and not (
                data.get("reason") or "").strip():
            self.add_error("reason", _("Pick a reason or write one."))
        return data

    def full_reason(self) -> str:
        return RefuseForm.full_reason(self)  # type: ignore[arg-type]

    def exception_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data.get("exceptions", [])]


class ConfirmForm(forms.Form):
    """No input: the button is the decision."""


READY_CHOICES = [("yes", _("Ready")), ("no", _("Not ready"))]


class CheckForm(forms.Form):
    """One endpoint's technical checklist (ĐN Đ11.2c, KH Đ13.2c): each item ready or not."""

    remarks = forms.CharField(
        label=_("Remarks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what is not ready; an incident is opened for the operator."),
    )

    def __init__(self, *args: Any, items: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        remarks = self.fields.pop("remarks")
        for item in self.items:
            self.fields[f"item_{item}"] = forms.ChoiceField(
                label=check_item_label(item),
                choices=READY_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
            )
        self.fields["remarks"] = remarks

    def item_fields(self) -> list[forms.BoundField]:
        return [self[f"item_{item}"] for item in self.items]

    def results(self) -> dict[str, bool]:
        return {item: self.cleaned_data[f"item_{item}"] == "yes" for item in self.items}


class IncidentReportForm(forms.Form):
    endpoint = forms.ChoiceField(label=_("Endpoint"), required=False)
    description = forms.CharField(
        label=_("What is wrong"), widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(
        self, *args: Any, endpoints: list[Endpoint], whole_meeting: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["endpoint"]
        assert isinstance(field, forms.ChoiceField)
        choices: list[tuple[str, str]] = [(str(e.pk), e.name) for e in endpoints]
        if whole_meeting:
            choices.insert(0, ("", str(_("The meeting as a whole"))))
        field.choices = choices
        field.required = not whole_meeting

    def endpoint_id(self) -> int | None:
        value = self.cleaned_data.get("endpoint")
        return int(value) if value else None


class IncidentUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=IncidentStatus.choices)
    resolution = forms.CharField(
        label=_("What was done"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to close the incident."),
    )
