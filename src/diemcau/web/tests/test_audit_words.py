# ruff: noqa: F811  (the fixtures of scheduling's page tests, imported by name)
"""An audit log an auditor can read: actions and objects in words, local times, fields by
their labels and values as words; the CSV's headers in the reader's language."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from diemcau.core import audit_labels
from diemcau.core.models import AuditEvent
from diemcau.scheduling.tests.test_views import (  # noqa: F401
    _khanh_hoa,
    accepted,
    district_meeting,
    t,
)

SOURCES = ("scheduling", "directory", "mcu", "media", "archive", "core", "notifications")


def test_every_recorded_action_has_words():
    from pathlib import Path

    root = Path(audit_labels.__file__).resolve().parents[1]
    recorded: set[str] = set()
    for app in SOURCES:
        for path in (root / app).rglob("*.py"):
            if "tests" in path.parts or "testing" in path.parts:
                continue
            text = path.read_text()
            recorded |= set(re.findall(r'audit\.record\(\s*"([a-z_]+\.[a-z_]+)"', text))
            recorded |= set(re.findall(r'\baction="([a-z_]+\.[a-z_]+)"', text))
    missing = sorted(recorded - audit_labels.known_actions())
    assert not missing, missing


def test_the_log_reads_in_words(t, accepted):
    auditor = Client()  # Vietnamese first: the default language
    auditor.force_login(t.auditor)
    page = auditor.get(reverse("core:audit_list")).content.decode()
    assert "data-action-label" in page
    assert str(audit_labels.action_label("meeting.accept")) in page
    event = AuditEvent.objects.filter(action="meeting.accept").get()
    english = Client()
    english.cookies["django_language"] = "en"
    english.force_login(t.auditor)
    detail = english.get(reverse("core:audit_detail", args=[event.seq])).content.decode()
    assert "Meeting accepted, code issued" in detail
    assert "Host endpoint" in detail and t.ep_district.name in detail  # an id as its name
    assert "Accepted, code issued" in detail  # a status as its label
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", detail)  # a local time, day first
    # The filter offers actions in words.
    listing = english.get(reverse("core:audit_list")).content.decode()
    assert '<option value="meeting.accept">Meeting accepted, code issued</option>' in listing


def test_the_csv_headers_are_in_the_readers_language(t, accepted):
    for language, header in (("en", "Time"), ("vi", None)):
        client = Client()
        client.cookies["django_language"] = language
        client.force_login(t.auditor)
        response = client.get(reverse("core:audit_export"))
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        first = text.splitlines()[0]
        assert "at,actor" not in first and "object_type" not in first
        if header:
            assert header in first and "Action" in first
        assert "Meeting accepted, code issued" in text or language == "vi"
