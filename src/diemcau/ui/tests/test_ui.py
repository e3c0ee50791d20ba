"""The shared page machinery: vendored assets (no CDN), service errors on forms, badges."""

import re
from pathlib import Path

import pytest
from django import forms
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied as Forbidden
from django.test import RequestFactory

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.ui.service_calls import call_service
from diemcau.ui.templatetags.diemcau_ui import status_badge

TEMPLATES = Path(__file__).resolve().parents[2]
VENDORED = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/htmx/htmx.min.js",
    "vendor/fullcalendar/index.global.min.js",
    "vendor/fullcalendar/locales/vi.global.min.js",
    "vendor/chartjs/chart.umd.min.js",
    "ui/app.css",
    "ui/app.js",
]


@pytest.mark.parametrize("path", VENDORED)
def test_vendored_assets_are_found_without_npm(path):
    assert finders.find(path), f"{path} missing: run scripts/vendor-assets.sh"


def test_vendored_files_name_no_missing_file():
    """Hashing static storages fail on a reference to a file that is not there."""
    icons = Path(finders.find("vendor/bootstrap-icons/bootstrap-icons.min.css")).read_text()
    assert re.findall(r'url\("([^"?]+)', icons) == ["fonts/bootstrap-icons.woff2"]
    for path in VENDORED:
        if path.endswith((".css", ".js")):
            assert "sourceMappingURL" not in Path(finders.find(path)).read_text(), path


def test_pages_load_nothing_from_other_hosts():
    templates = list(TEMPLATES.glob("*/templates/**/*.html"))
    assert len(templates) > 10
    for template in templates:
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), template


class NameForm(forms.Form):
    name = forms.CharField()


def run(call):
    request = RequestFactory().post("/")
    request._messages = Messages()
    form = NameForm({"name": "x"})
    form.is_valid()
    return call_service(request, form, call), form, request._messages


class Messages(list):
    def add(self, level, message, extra_tags=""):
        self.append(str(message))


def raise_(error):
    def call():
        raise error

    return call


def test_rule_violation_goes_to_its_field_with_the_article():
    error = RuleViolation("code", "Điều 6.4 Quy chế KH", "Sai tên", field="name")
    outcome, form, _ = run(raise_(error))
    assert not outcome.ok
    assert form.errors["name"] == ["Điều 6.4 Quy chế KH: Sai tên"]


def test_rule_violation_of_an_unknown_field_is_a_form_error():
    outcome, form, _ = run(raise_(RuleViolation("c", "Điều 8 Quy chế KH", "Quá số", "agency")))
    assert form.non_field_errors() == ["Điều 8 Quy chế KH: Quá số"]


def test_invalid_input_per_field():
    outcome, form, _ = run(raise_(InvalidInput({"name": ["Trùng tên"], "reason": ["Thiếu"]})))
    assert form.errors["name"] == ["Trùng tên"]
    assert form.non_field_errors() == ["reason: Thiếu"]


def test_invalid_transition_is_a_message_and_permission_a_403():
    outcome, form, messages = run(raise_(InvalidTransition("Không thể")))
    assert not outcome.ok and messages == ["Không thể"] and not form.errors
    with pytest.raises(Forbidden):
        run(raise_(PermissionDenied("approve_endpoint", "Không được phép")))


def test_success_returns_the_value():
    outcome, form, _ = run(lambda: 42)
    assert outcome.ok and outcome.value == 42 and not form.errors


@pytest.mark.parametrize(
    ("status", "colour"),
    [("pending", "secondary"), ("evaluated", "info"), ("approved", "success"),
     ("suspended", "warning"), ("rejected", "danger")],
)
def test_status_badge_colours(status, colour):
    assert f"text-bg-{colour}" in status_badge("endpoint", status)


@pytest.mark.django_db
def test_pages_are_vietnamese_first_even_when_the_browser_asks_for_english(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Đăng nhập" in page
    client.cookies["django_language"] = "en"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Sign in" in page
