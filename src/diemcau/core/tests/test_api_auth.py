"""Who may call the REST API: API tokens and the pages' session."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from diemcau.core.api_auth import generate_token, hash_token, split_token, user_for_token
from diemcau.core.models import ApiToken, User
from diemcau.core.roles import Role
from diemcau.testing.factories import AgencyFactory, UserFactory

AGENCIES = "/api/v1/agencies"


def make_token(user: User, **fields: object) -> str:
    raw, prefix, key_hash = generate_token()
    ApiToken.objects.create(
        user=user, name="integration", prefix=prefix, key_hash=key_hash, **fields
    )
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


# ---------------------------------------------------------------- pure functions


def test_hash_token_is_sha256_of_the_whole_token() -> None:
    assert hash_token("dc_abc_secret") == hashlib.sha256(b"dc_abc_secret").hexdigest()


def test_generate_token_shape_and_hash() -> None:
    raw, prefix, key_hash = generate_token()
    assert raw.startswith(f"dc_{prefix}_")
    assert len(prefix) <= 12 and "_" not in prefix
    assert key_hash == hash_token(raw) and len(key_hash) == 64
    assert split_token(raw) == (prefix, raw.split("_", 2)[2])
    assert generate_token()[0] != raw


@pytest.mark.parametrize("raw", ["", "dc_", "dc__x", "xx_abc_def", "dcabc", "dc_abc_"])
def test_split_token_refuses_malformed(raw: str) -> None:
    assert split_token(raw) is None


# ---------------------------------------------------------------- token auth


@pytest.mark.django_db
def test_valid_token_authenticates_and_marks_last_use(client: Client) -> None:
    user = UserFactory()
    raw = make_token(user)
    response = client.get(AGENCIES, headers=bearer(raw))
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is not None
    assert user_for_token(raw) == user


@pytest.mark.django_db
def test_wrong_token_is_401(client: Client) -> None:
    user = UserFactory()
    raw = make_token(user)
    forged = raw[:-2] + ("aa" if not raw.endswith("aa") else "bb")
    response = client.get(AGENCIES, headers=bearer(forged))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


@pytest.mark.django_db
def test_unknown_prefix_and_garbage_are_401(client: Client) -> None:
    raw, _prefix, _hash = generate_token()  # never stored
    assert client.get(AGENCIES, headers=bearer(raw)).status_code == 401
    assert client.get(AGENCIES, headers=bearer("not-a-token")).status_code == 401
    assert client.get(AGENCIES, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401


@pytest.mark.django_db
def test_revoked_token_is_401(client: Client) -> None:
    raw = make_token(UserFactory(), revoked_at=timezone.now())
    assert client.get(AGENCIES, headers=bearer(raw)).status_code == 401


@pytest.mark.django_db
def test_token_of_inactive_user_is_401(client: Client) -> None:
    user = UserFactory(is_active=False)
    raw = make_token(user)
    assert client.get(AGENCIES, headers=bearer(raw)).status_code == 401


@pytest.mark.django_db
def test_missing_credentials_is_401(client: Client) -> None:
    assert client.get(AGENCIES).status_code == 401
    response = client.post("/api/v1/endpoints", data="{}", content_type="application/json")
    # No login at all: 401, not a CSRF failure.
    assert response.status_code == 401


@pytest.mark.django_db
def test_last_used_at_is_written_at_most_once_a_minute(client: Client) -> None:
    user = UserFactory()
    raw = make_token(user)
    recent = timezone.now() - timedelta(seconds=5)
    ApiToken.objects.filter(user=user).update(last_used_at=recent)
    assert client.get(AGENCIES, headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get(user=user).last_used_at == recent
    old = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(user=user).update(last_used_at=old)
    assert client.get(AGENCIES, headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get(user=user).last_used_at > old


@pytest.mark.django_db
def test_token_needs_no_csrf_token() -> None:
    operator = UserFactory(role=Role.OPERATOR)
    agency = AgencyFactory()
    raw = make_token(operator)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/agencies/{agency.pk}/quota-exceptions",
        data=json.dumps(
            {"extra_endpoints": 1, "decision_reference": "123/QĐ-UBND", "decided_on": "2025-01-02"}
        ),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 201, response.content


# ---------------------------------------------------------------- session auth


@pytest.mark.django_db
def test_session_user_can_read(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get(AGENCIES).status_code == 200


@pytest.mark.django_db
def test_session_write_needs_the_csrf_token() -> None:
    operator = UserFactory(role=Role.OPERATOR)
    agency = AgencyFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    url = f"/api/v1/agencies/{agency.pk}/quota-exceptions"
    body = json.dumps(
        {"extra_endpoints": 1, "decision_reference": "123/QĐ-UBND", "decided_on": "2025-01-02"}
    )
    refused = client.post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    csrf = "a" * 32
    client.cookies[settings.CSRF_COOKIE_NAME] = csrf
    accepted = client.post(
        url, data=body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201, accepted.content


@pytest.mark.django_db
def test_inactive_session_user_is_401(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(AGENCIES).status_code == 401
