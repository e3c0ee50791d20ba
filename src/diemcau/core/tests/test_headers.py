"""Headers and deployment (R22): a Content-Security-Policy without inline script, HSTS and
the HTTPS redirect behind the TLS proxy, `check --deploy` clean in production settings, DEBUG
never served to the network, and 404 pages that list nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from diemcau.core.roles import Role
from diemcau.testing.factories import UserFactory

SRC = Path(__file__).resolve().parents[2]
ROOT = SRC.parents[1]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_no_template_has_an_inline_script_or_event_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    found = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        if inline.search(text) or handler.search(text) or "javascript:" in text:
            found.append(str(path.relative_to(SRC)))
    assert not found, f"inline script in {found}"


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_script(client):
    response = client.get("/login/")
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "ws://testserver" in policy["connect-src"]  # the site's own WebSockets
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_live_pages_may_reach_their_media_server_only(client, kh_tree):
    from diemcau.media.tests.live_fixtures import live_meeting
    from diemcau.testing.factories import McuNodeFactory

    node = McuNodeFactory(name="mcu-csp", ws_url="wss://mcu.example.gov.vn:8989/janus-ws")
    live = live_meeting(node, kh_tree.district, [kh_tree.commune])
    client.force_login(UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune))
    for name in ("media:join", "media:room"):
        response = client.get(reverse(name, args=[live.meeting.pk]))
        assert response.status_code == 200, name
        policy = directives(response)
        assert "wss://mcu.example.gov.vn:8989" in policy["connect-src"], name
        assert "blob:" in policy["media-src"] and policy["script-src"] == ["'self'"]
    other = client.get("/")
    assert "wss://mcu.example.gov.vn:8989" not in directives(other)["connect-src"]


@pytest.mark.django_db
def test_behind_the_tls_proxy_http_is_redirected_and_hsts_is_sent():
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000,
                           SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                           SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        client = Client()
        plain = client.get("/login/")
        assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
        proxied = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
        assert proxied.status_code == 200
        assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert any(s.startswith("wss://testserver") for s in directives(proxied)["connect-src"])


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEMCAU_")}
    env.update({
        "DIEMCAU_DEBUG": "0",
        "DIEMCAU_SECRET_KEY": "a-production-secret-key-with-enough-length-and-variety-8c1f",
        "DIEMCAU_ALLOWED_HOSTS": "hop.example.gov.vn",
        "DIEMCAU_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(SRC.parent) + os.pathsep + env.get("PYTHONPATH", ""),
        **extra,
    })
    return env


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "diemcau.manage", "check", "--deploy", "--fail-level",
         "WARNING"],
        capture_output=True, text=True, timeout=180, check=False,
        env=_production_env(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_turn_on_https_and_hsts(tmp_path):
    code = ("from django.conf import settings as s; import django; django.setup(); "
            "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)")
    env = _production_env(tmp_path, DIEMCAU_PROXY_SSL_HEADER="X-Forwarded-Proto",
                          DJANGO_SETTINGS_MODULE="diemcau.settings")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "31536000", "True", "True",
                                     "('HTTP_X_FORWARDED_PROTO',", "'https')"]


def test_make_run_refuses_debug_on_a_network_address(tmp_path):
    env = {**os.environ, "HOST": "0.0.0.0", "DIEMCAU_DEBUG": "1", "BIN": str(tmp_path)}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "run.sh")], capture_output=True,
                            text=True, timeout=30, check=False, env=env)
    assert result.returncode == 2 and "refusing DIEMCAU_DEBUG=1" in result.stderr


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_404_never_lists_the_url_patterns(client, kh_tree):
    for response in (client.get("/no-such-page/"), client.get("/api/v2/nothing")):
        assert response.status_code == 404
        body = response.content.decode()
        assert "URLconf" not in body and "admin/" not in body and "SECRET" not in body
    client.force_login(UserFactory(role=Role.AUDITOR, agency=kh_tree.province))
    raised = client.get(reverse("core:audit_detail", args=[999999]))  # Http404 in a view
    assert raised.status_code == 404 and "URLconf" not in raised.content.decode()
    assert "Raised by" not in raised.content.decode()
