from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from .models import KindGroup
from .services import Channels


@dataclass
class PreferenceRow:
    group: KindGroup
    email: forms.BoundField
    webhook: forms.BoundField


class PreferencesForm(forms.Form):
    """One e-mail and one webhook checkbox per group of messages."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language of e-mails and webhook messages"),
        choices=settings.LANGUAGES,
        required=False,  # left out: unchanged
    )

    def __init__(
        self,
        *args: Any,
        current: dict[KindGroup, Channels],
        webhook_available: bool,
        language: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = language or settings.LANGUAGE_CODE
        for group in KindGroup:
            self.fields[f"email_{group.value}"] = forms.BooleanField(
                required=False, initial=current[group].email, label=group.label
            )
            # Without a configured webhook the choice is kept but cannot be changed.
            self.fields[f"webhook_{group.value}"] = forms.BooleanField(
                required=False,
                initial=current[group].webhook,
                label=group.label,
                disabled=not webhook_available,
            )

    def rows(self) -> Iterator[PreferenceRow]:
        for group in KindGroup:
            yield PreferenceRow(group, self[f"email_{group.value}"], self[f"webhook_{group.value}"])

    def choices(self) -> dict[KindGroup | str, Channels]:
        data = self.cleaned_data
        return {
            group: Channels(
                email=bool(data[f"email_{group.value}"]),
                webhook=bool(data[f"webhook_{group.value}"]),
            )
            for group in KindGroup
        }
