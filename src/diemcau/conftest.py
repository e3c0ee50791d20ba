"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from diemcau.core import audit_guards
from diemcau.testing.janus_fixtures import *  # noqa: F403  (Janus and media-plane fixtures)
from diemcau.testing.janus_fixtures import __all__ as JANUS_FIXTURES


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for a real Janus is a `janus` test, marked or not, so that leaving out
    the slow groups (`-m "not janus ..."`) never starts one."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if item.get_closest_marker("janus") is None and set(names) & set(JANUS_FIXTURES):
            item.add_marker(pytest.mark.janus)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is not None and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")


@pytest.fixture(autouse=True)
def _huey_immediate() -> Iterator[Any]:
    """No worker runs in tests: Huey executes tasks at once in the test's process, with an
    in-memory queue, so nothing reaches var/huey.sqlite3."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _live_sockets_close_their_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live consumers' pool threads keep their database connections between calls; the
    test databases are dropped while those threads live, so in tests each call closes its
    own (as before). `media/tests/test_consumer_threads.py` tests the keeping."""
    from diemcau.media import consumers

    monkeypatch.setattr(consumers, "KEEP_CONNECTIONS", False)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hashing strength is Django's concern; tests that log in often need it fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`client.force_login(user)` skips signing in — the second factor included: a user whose
    role must use one (core.two_factor) gets a session verified with a device of theirs, as
    after the sign-in page; and, as no one signed in, no `auth.login` audit event is written.
    Signing in itself is tested through the page (web/tests/test_accounts.py)."""
    from django.contrib.auth.signals import user_logged_in
    from django.test import Client

    from diemcau.core import two_factor
    from diemcau.core.services import accounts
    from diemcau.testing.two_factor import verify_session

    original = Client.force_login

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        user_logged_in.disconnect(dispatch_uid=accounts.LOGIN_RECEIVER)
        try:
            original(self, user, backend)
        finally:
            accounts.connect_signals()
        if two_factor.required_for(user):
            session = self.session
            verify_session(session, user)
            self.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _audit_guards(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep the audit log append-only during tests, but let the test runner empty the
    database after a transactional test (its flush deletes every row)."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if not marker and not names & {"db", "transactional_db", "live_server"}:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    transactional = bool(
        names & {"transactional_db", "live_server"} or (marker and marker.kwargs.get("transaction"))
    )
    audit_guards.install(connection)
    yield
    if transactional:
        audit_guards.remove(connection)


@pytest.fixture
def use_rulebook() -> Iterator[object]:
    """`use_rulebook("dong-nai-2025")` switches the active rulebook for the rest of the test."""
    overrides: list[override_settings] = []

    def switch(name: str) -> None:
        override = override_settings(RULEBOOK=name)
        override.enable()
        overrides.append(override)

    yield switch
    for override in reversed(overrides):
        override.disable()


@pytest.fixture
def kh_tree(db: None) -> SimpleNamespace:
    """A small Khánh Hòa-like tree: UBND tỉnh, Sở TTTT, two districts with one ward each."""
    from diemcau.directory.choices import AgencyKind
    from diemcau.testing.factories import AgencyFactory

    province = AgencyFactory(
        name="UBND tỉnh Khánh Hòa", abbreviation="", kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE
    )
    department = AgencyFactory(
        name="Sở Thông tin và Truyền thông",
        abbreviation="So.TTTT",
        parent=province,
        kind=AgencyKind.DEPARTMENT,
    )
    district = AgencyFactory(
        name="UBND thành phố Nha Trang",
        parent=province,
        kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
        abbreviation="NT",
    )
    commune = AgencyFactory(
        name="UBND phường Xương Huân",
        parent=district,
        kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE,
        abbreviation="",
    )
    other_district = AgencyFactory(
        name="UBND thành phố Cam Ranh",
        parent=province,
        kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
        abbreviation="CR",
    )
    other_commune = AgencyFactory(
        name="UBND phường Cam Nghĩa",
        parent=other_district,
        kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE,
        abbreviation="",
    )
    return SimpleNamespace(
        province=province,
        department=department,
        district=district,
        commune=commune,
        other_district=other_district,
        other_commune=other_commune,
    )


@pytest.fixture
def kh_world(kh_tree: SimpleNamespace, use_rulebook: Any) -> SimpleNamespace:
    """`kh_tree` under the Khánh Hòa rulebook with an operator, offices, one approved
    endpoint per agency and one MCU node of 5 meetings and 100 endpoints."""
    from diemcau.core.roles import Role
    from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    t.operator = UserFactory(role=Role.OPERATOR, agency=t.department)
    t.province_office = UserFactory(role=Role.OFFICE, agency=t.province)
    t.district_office = UserFactory(role=Role.OFFICE, agency=t.district)
    t.other_office = UserFactory(role=Role.OFFICE, agency=t.other_district)
    t.ep_province = ApprovedEndpointFactory(agency=t.province, name="UBND.Khanh Hoa")
    t.ep_district = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang")
    t.ep_commune = ApprovedEndpointFactory(agency=t.commune, name="NT.XuongHuan")
    t.ep_other = ApprovedEndpointFactory(agency=t.other_district, name="UBND.Cam Ranh")
    t.ep_other_commune = ApprovedEndpointFactory(agency=t.other_commune, name="CR.CamNghia")
    t.node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    return t
