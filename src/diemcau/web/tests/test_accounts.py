"""Signing in (R22): lockout per account and per address with an audited unlock, sign-in
events in the audit log, two-factor codes (required for administrators and MCU operators),
one's own password, and sessions fit for shared room computers."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from diemcau.core import two_factor
from diemcau.core.middleware import LAST_ACTIVITY
from diemcau.core.models import AuditEvent, User
from diemcau.core.roles import Role
from diemcau.testing.factories import TEST_PASSWORD, UserFactory
from diemcau.testing.two_factor import device_for, unused_code

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD, code: str = "",
            address: str = "203.0.113.10") -> object:
    return client.post(LOGIN, {"username": username, "password": password, "otp_token": code},
                       REMOTE_ADDR=address)


def actions(**filters: str) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq")
                .values_list("action", flat=True))


# ---------------------------------------------------------------- lockout


def test_thirty_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(kh_tree):
    user = UserFactory(role=Role.OFFICE, agency=kh_tree.district, username="vanphong.nt")
    client = Client()
    statuses = [sign_in(client, user.username, "wrong-password").status_code
                for _ in range(30)]
    limit = settings.LOGIN_FAILURES_PER_ACCOUNT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit - 1:]) == {429}  # locked from the limit on
    locked = sign_in(client, user.username)  # even the right password
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode("utf-8") \
        or "Đăng nhập bị khóa" in locked.content.decode("utf-8")
    assert SESSION_KEY not in client.session
    failed = AuditEvent.objects.filter(action="auth.login_failed", object_id=str(user.pk))
    assert failed.count() == 31
    assert failed.order_by("-seq").first().after["locked_out"] is True
    assert failed.first().ip == "203.0.113.10"

    admin = UserFactory(role=Role.ADMIN, agency=kh_tree.province, is_staff=True)
    admin_client = Client()
    admin_client.force_login(admin)
    response = admin_client.post(reverse("admin:core_user_changelist"), {
        "action": "unlock_sign_in", "_selected_action": [user.pk],
    })
    assert response.status_code == 302
    unlock = AuditEvent.objects.get(action="auth.unlock")
    assert unlock.actor == admin and unlock.object_id == str(user.pk)
    assert unlock.after["attempts_removed"] >= 1

    assert sign_in(client, user.username).status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_an_address_is_locked_after_more_failures_than_an_account(kh_tree):
    good = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    per_address = settings.LOGIN_FAILURES_PER_ADDRESS
    # Guessing many names from one address: no single account reaches its limit.
    for i in range(per_address):
        sign_in(client, f"guess{i % 4}", "wrong", address="198.51.100.9")
    assert sign_in(client, good.username, address="198.51.100.9").status_code == 429
    # The account itself is not locked: from another address it signs in.
    assert sign_in(Client(), good.username, address="198.51.100.77").status_code == 302


def test_a_successful_sign_in_forgets_the_accounts_failures_only(kh_tree):
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username).status_code == 302  # counted afresh


def test_the_admin_lists_attempts_and_unlocks_an_address(kh_tree):
    from axes.models import AccessAttempt

    for _ in range(3):
        sign_in(Client(), "nobody", "wrong", address="192.0.2.5")
    admin = UserFactory(role=Role.ADMIN, agency=kh_tree.province, is_staff=True)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200 and "192.0.2.5" in page.content.decode()
    attempt = AccessAttempt.objects.get()
    client.post(reverse("admin:axes_accessattempt_changelist"),
                {"action": "unlock", "_selected_action": [attempt.pk]})
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(action="auth.unlock", actor=admin).exists()
    office = Client()
    office.force_login(UserFactory(role=Role.OFFICE, agency=kh_tree.district))
    assert office.get(reverse("admin:axes_accessattempt_changelist")).status_code == 302


# ---------------------------------------------------------------- sign-in events


def test_sign_in_and_out_are_audited(kh_tree):
    user = UserFactory(role=Role.OFFICE, agency=kh_tree.district)
    client = Client()
    assert sign_in(client, user.username).status_code == 302
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.10")
    assert actions(object_id=str(user.pk), object_type="core.user") == [
        "auth.login", "auth.logout"]
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == user and login.ip == "203.0.113.10"
    assert login.after == {"second_factor": False}


def test_the_admin_signs_in_through_the_site_page(kh_tree):
    """The admin's own form knows no two-factor code: it sends people to the site's page."""
    UserFactory(role=Role.ADMIN, agency=kh_tree.province, username="quantri.x", is_staff=True)
    client = Client()
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/login/?next=")
    posted = client.post("/admin/login/", {"username": "quantri.x", "password": TEST_PASSWORD})
    assert posted.status_code == 302 and SESSION_KEY not in client.session


def test_a_session_opened_before_enrolment_proves_the_code_once(kh_tree):
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    other_browser = Client()
    assert sign_in(other_browser, operator.username).status_code == 302  # no device yet
    device = device_for(operator)  # enrolled meanwhile, in another browser
    assert other_browser.get("/").url == reverse("two_factor")
    page = other_browser.get(reverse("two_factor"))
    assert page.context["form"] is not None
    done = other_browser.post(reverse("two_factor"), {"otp_token": unused_code(device)})
    assert done.status_code == 302 and other_browser.get("/").status_code == 200


# ---------------------------------------------------------------- two-factor sign-in


def test_an_operator_without_a_device_must_enrol_before_anything_else(kh_tree):
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    client = Client()
    response = sign_in(client, operator.username)
    assert response.status_code == 302
    assert client.get("/").url == reverse("two_factor")
    assert client.get(reverse("scheduling:meeting_list")).url == reverse("two_factor")
    # The API refuses such a session too.
    assert client.get("/api/v1/agencies").status_code == 401
    page = client.get(reverse("two_factor"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html and "otpauth://totp/" in html
    key = page.context["manual_key"].replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)

    device = operator.totpdevice_set.get()
    wrong = client.post(reverse("two_factor"), {"otp_token": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["otp_token"]
    done = client.post(reverse("two_factor"), {"otp_token": unused_code(device)})
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/agencies").status_code == 200
    assert AuditEvent.objects.filter(action="user.two_factor_on", actor=operator).exists()


def test_with_a_device_the_code_is_asked_after_the_password(kh_tree):
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    device = device_for(operator)
    client = Client()
    missing = sign_in(client, operator.username)
    assert missing.status_code == 200
    assert "two-factor code" in str(missing.context["form"].errors) or \
        "mã xác thực" in str(missing.context["form"].errors)
    wrong = sign_in(client, operator.username, code="123456")
    assert wrong.status_code == 200 and SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed",
                                     after__reason="second_factor").exists()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp waits a second after a wrong code; a person does too
    right = sign_in(client, operator.username, code=unused_code(device))
    assert right.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.get(action="auth.login").after == {"second_factor": True}


def test_two_factor_is_optional_for_a_technician(kh_tree):
    technician = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    assert sign_in(client, technician.username).status_code == 302
    assert client.get("/").status_code == 200  # no enrolment asked
    page = client.get(reverse("two_factor"))
    device = technician.totpdevice_set.get()
    assert not page.context["required"]
    client.post(reverse("two_factor"), {"otp_token": unused_code(device)})
    client.post(reverse("logout"))
    assert sign_in(client, technician.username).status_code == 200  # the code is now asked
    assert sign_in(client, technician.username, code=unused_code(device)).status_code == 302
    client.post(reverse("two_factor_remove"))
    assert not technician.totpdevice_set.exists()
    assert AuditEvent.objects.filter(action="user.two_factor_off", actor=technician).exists()


def test_an_operator_cannot_turn_it_off_but_an_administrator_can_reset_it(kh_tree):
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    client = Client()
    client.force_login(operator)
    assert client.post(reverse("two_factor_remove")).status_code == 403
    assert two_factor.confirmed_device(operator) is not None
    admin = UserFactory(role=Role.ADMIN, agency=kh_tree.province, is_staff=True)
    admin_client = Client()
    admin_client.force_login(admin)
    admin_client.post(reverse("admin:core_user_changelist"),
                      {"action": "reset_two_factor", "_selected_action": [operator.pk]})
    assert two_factor.confirmed_device(operator) is None
    event = AuditEvent.objects.get(action="user.two_factor_off")
    assert event.actor == admin and event.after == {"by": "administrator"}


def test_the_demo_accounts_sign_in_with_the_code_the_demo_prints(use_rulebook, capsys):
    use_rulebook("khanh-hoa-2023")
    call_command("demo")
    output = capsys.readouterr().out
    assert "key " in output and "diemcau demo --code" in output
    for username in ("quantri", "vanhanh"):
        assert two_factor.confirmed_device(User.objects.get(username=username))
    assert two_factor.confirmed_device(User.objects.get(username="vanphong")) is None
    call_command("demo", "--code", "vanhanh")
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    client = Client()
    from diemcau.directory.demo import DEMO_PASSWORD

    page = client.get(LOGIN)
    assert b"data-demo-hint" in page.content if settings.DEBUG else True
    assert sign_in(client, "vanhanh", DEMO_PASSWORD, code=code).status_code == 302
    assert client.get("/").status_code == 200
    with pytest.raises(Exception, match="not an account of the demo"):
        call_command("demo", "--code", "admin-of-production")


# ---------------------------------------------------------------- passwords


def test_users_change_their_own_password(kh_tree):
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    client.force_login(user)
    url = reverse("password_change")
    assert client.get(url).status_code == 200
    wrong_old = client.post(url, {"old_password": "nope", "new_password1": "Mot-Mat-Khau-Moi-9",
                                  "new_password2": "Mot-Mat-Khau-Moi-9"})
    assert wrong_old.status_code == 200 and "old_password" in wrong_old.context["form"].errors
    done = client.post(url, {"old_password": TEST_PASSWORD,
                             "new_password1": "Mot-Mat-Khau-Moi-9",
                             "new_password2": "Mot-Mat-Khau-Moi-9"})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # still signed in on this browser
    user.refresh_from_db()
    assert user.check_password("Mot-Mat-Khau-Moi-9")
    event = AuditEvent.objects.get(action="user.password")
    assert event.actor == user and event.after == {"by": "self", "usable": True}
    assert "Mot-Mat-Khau" not in str(event.before) + str(event.after)


def test_a_password_set_through_the_admin_is_audited(kh_tree):
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    admin = UserFactory(role=Role.ADMIN, agency=kh_tree.province, is_staff=True)
    client = Client()
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": "Mat-Khau-Quan-Tri-7",
                                 "password2": "Mat-Khau-Quan-Tri-7",
                                 "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.check_password("Mat-Khau-Quan-Tri-7")
    event = AuditEvent.objects.get(action="user.password")
    assert event.actor == admin and event.after["by"] == "administrator"


def test_a_user_name_with_a_hidden_character_is_refused_in_the_admin(kh_tree):
    admin = UserFactory(role=Role.ADMIN, agency=kh_tree.province, is_staff=True)
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:core_user_change", args=[user.pk]))
    data = {k: v for k, v in page.context["adminform"].form.initial.items()
            if v is not None and k not in {"password", "groups", "user_permissions",
                                           "last_login", "date_joined"}}
    data.update({"first_name": "Nguyễn\u200bVăn", "date_joined_0": "2026-01-01",
                 "date_joined_1": "08:00:00", "role": user.role, "agency": user.agency_id,
                 "language": "vi"})
    response = client.post(reverse("admin:core_user_change", args=[user.pk]), data)
    assert response.status_code == 200
    assert "U+200B" in str(response.context["adminform"].form.errors["first_name"])


# ---------------------------------------------------------------- sessions


def test_sessions_end_with_the_browser_and_after_idling(kh_tree):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_TIMEOUT == 30 * 60
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    client = Client()
    response = sign_in(client, user.username)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # gone when the browser closes
    assert cookie["httponly"]
    session = client.session
    session[LAST_ACTIVITY] = 1  # long ago
    session.save()
    client.get(reverse("scheduling:queue_count"), HTTP_X_DIEMCAU_BACKGROUND="1")
    assert client.session[LAST_ACTIVITY] == 1  # a page's own polling is not activity
    client.get("/")
    assert client.session[LAST_ACTIVITY] > 1  # the person's request is; expiry renewed
