"""Pages a new user meets first: a favicon, the login page's way to the public schedule and
to help with a forgotten password, API tokens only for the roles that integrate, error pages
that say one thing once."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from diemcau.core.roles import Role
from diemcau.testing.factories import UserFactory


def test_login_page_links_to_the_public_schedule_and_to_password_help(client):
    page = client.get(reverse("login")).content.decode()
    assert "data-forgot-password" in page
    assert reverse("calendar:public_schedule") in page
    assert "ui/favicon.svg" in page and finders.find("ui/favicon.svg")


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "offered"), [
    (Role.OFFICE, True), (Role.OPERATOR, True), (Role.ADMIN, True),
    (Role.TECHNICIAN, False), (Role.AUDITOR, False),
])
def test_api_tokens_only_for_roles_that_integrate(kh_tree, role, offered):
    client = Client()
    client.force_login(UserFactory(role=role, agency=kh_tree.district))
    page = client.get(reverse("dashboard")).content.decode()
    assert ('data-nav="tokens"' in page) is offered


def test_the_403_page_says_its_reason_once():
    request = RequestFactory().get("/")
    with_reason = render_to_string("403.html", {"exception": "Chỉ đơn vị vận hành."},
                                   request=request)
    assert with_reason.count("Chỉ đơn vị vận hành.") == 1
    assert "does not give you this right" not in with_reason
    plain = render_to_string("403.html", {}, request=request)
    assert "does not give you this right" in plain or "không" in plain


def test_the_500_page_renders_without_context():
    page = render_to_string("500.html", {})
    assert "Hệ thống gặp lỗi" in page and "bootstrap.min.css" in page


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_the_404_page_speaks_vietnamese(client, settings, debug):
    """Whatever the browser's language, with DEBUG on or off: the site's own page."""
    settings.DEBUG = debug
    page = client.get("/khong-co-trang-nay/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.status_code == 404
    html = page.content.decode()
    assert "Không tìm thấy trang" in html and 'lang="vi"' in html
    assert "Page not found" not in html and "URLconf" not in html


@pytest.mark.django_db
def test_the_menu_groups_the_calendars_in_one_entry(kh_tree):
    """The administrator's menu fits a 1366 px screen (checked in Chromium by
    test_browser_pages): the calendar and the public schedule share one entry."""
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICE, agency=kh_tree.district))
    page = client.get(reverse("dashboard")).content.decode()
    menu = page.split('data-nav="calendars"')[1].split("</ul>")[0]
    assert reverse("calendar:calendar") in menu and reverse("calendar:public_schedule") in menu
