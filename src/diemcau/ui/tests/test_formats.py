"""One way of writing dates and times (dd/mm/yyyy, 24 hours) on every page, in both
languages, and the vendored picker that lets people type and pick them so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django import forms
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.utils import timezone, translation

from diemcau.ui.forms import DateInput, DateTimeInput

MOMENT = dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.UTC)  # 21:30 in Hà Nội


def _render(text: str, **context: object) -> str:
    return Template(text).render(Context(context))


def test_dates_read_day_first_on_24_hours_in_both_languages():
    for language in ("vi", "en"):
        with translation.override(language), timezone.override("Asia/Ho_Chi_Minh"):
            shown = _render(
                "{{ m|date }}|{{ m|date:'DATETIME_FORMAT' }}|{{ m|date:'SHORT_DATETIME_FORMAT' }}"
                "|{{ m|time }}", m=MOMENT)
            assert shown == "01/05/2026|01/05/2026 21:30|01/05/2026 21:30|21:30", language


class _Form(forms.Form):
    day = forms.DateField(widget=DateInput())
    at = forms.DateTimeField(widget=DateTimeInput())


def test_forms_show_and_accept_day_first_and_iso():
    with translation.override("en"), timezone.override("Asia/Ho_Chi_Minh"):
        form = _Form(initial={"day": dt.date(2026, 5, 1), "at": MOMENT})
        html = str(form["day"]) + str(form["at"])
        assert 'value="01/05/2026"' in html and 'value="01/05/2026 21:30"' in html
        assert 'data-picker="date"' in html and 'data-picker="datetime"' in html
        assert 'type="date"' not in html and "datetime-local" not in html
        typed = _Form({"day": "02/05/2026", "at": "02/05/2026 08:05"})
        assert typed.is_valid(), typed.errors
        assert typed.cleaned_data["day"] == dt.date(2026, 5, 2)
        assert timezone.localtime(typed.cleaned_data["at"]).strftime("%Y-%m-%d %H:%M") == (
            "2026-05-02 08:05")
        iso = _Form({"day": "2026-05-02", "at": "2026-05-02T08:05"})
        assert iso.is_valid(), iso.errors
        assert not _Form({"day": "13/13/2026", "at": "x"}).is_valid()


def test_the_picker_is_vendored_with_its_vietnamese_locale_and_licence(client):
    for name in ("flatpickr.min.js", "flatpickr.min.css", "vn.js", "LICENSE"):
        found = finders.find(f"vendor/flatpickr/{name}")
        assert found, name
    assert "MIT" in Path(finders.find("vendor/flatpickr/LICENSE")).read_text()
    assert "l10ns.vn" in Path(finders.find("vendor/flatpickr/vn.js")).read_text()
    versions = Path(finders.find("vendor/VERSIONS.txt")).read_text()
    assert "flatpickr 4.6.13" in versions
    page = client.get("/login/").content.decode()
    for static in ("vendor/flatpickr/flatpickr.min.js", "vendor/flatpickr/vn.js",
                   "ui/datepicker.js", "vendor/flatpickr/flatpickr.min.css"):
        assert static in page
    assert "cdn" not in page.lower()
