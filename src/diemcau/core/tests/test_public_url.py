"""Production behind TLS: the public address (DIEMCAU_PUBLIC_URL) is what links in e-mails,
join links and feeds use, its origin is trusted for CSRF and its host served; the deploy
files the README points to exist and agree with the settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.test import RequestFactory, override_settings

from diemcau.core import public_url
from diemcau.notifications.delivery import absolute_url

ROOT = Path(__file__).resolve().parents[4]


def _settings_with(tmp_path: Path, **env: str) -> dict[str, object]:
    code = ("import json, diemcau.settings as s; print(json.dumps({'url': s.PUBLIC_URL, "
            "'set': s.PUBLIC_URL_SET, 'csrf': s.CSRF_TRUSTED_ORIGINS, "
            "'hosts': s.ALLOWED_HOSTS}))")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("DIEMCAU_") and k != "DATABASE_URL"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env={**clean, "DIEMCAU_VAR_DIR": str(tmp_path), **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_public_address_is_trusted_and_served(tmp_path):
    found = _settings_with(tmp_path, DIEMCAU_PUBLIC_URL="https://hop.example.gov.vn/")
    assert found["url"] == "https://hop.example.gov.vn" and found["set"] is True
    assert "https://hop.example.gov.vn" in found["csrf"]
    assert "hop.example.gov.vn" in found["hosts"]
    # The older name still works; without either, the development default.
    assert _settings_with(tmp_path, DIEMCAU_BASE_URL="https://a.example:8443")["csrf"] == [
        "https://a.example:8443"]
    default = _settings_with(tmp_path)
    assert default["url"] == "http://127.0.0.1:8000" and default["set"] is False


def test_a_bad_public_address_is_refused(tmp_path):
    code = "import diemcau.settings"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIEMCAU_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**clean, "DIEMCAU_VAR_DIR": str(tmp_path),
                                 "DIEMCAU_PUBLIC_URL": "hop.example.gov.vn"})
    assert result.returncode != 0 and "DIEMCAU_PUBLIC_URL" in result.stderr


def test_links_use_the_public_address_when_set():
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000")
    with override_settings(PUBLIC_URL="https://hop.example.gov.vn", PUBLIC_URL_SET=True):
        assert public_url.absolute("/j/abc/", request) == "https://hop.example.gov.vn/j/abc/"
        assert absolute_url("/meetings/3/") == "https://hop.example.gov.vn/meetings/3/"
    with override_settings(PUBLIC_URL="http://127.0.0.1:8000", PUBLIC_URL_SET=False):
        # A development server answers on the address it was asked on.
        assert public_url.absolute("/j/abc/", request) == "http://127.0.0.1:8000/j/abc/"
    assert public_url.absolute("https://x.example/y") == "https://x.example/y"


def test_the_deploy_files_agree_with_the_settings():
    env = (ROOT / "deploy/diemcau.env").read_text()
    for line in ("DIEMCAU_DEBUG=0", "DIEMCAU_PUBLIC_URL=https://", "DIEMCAU_REDIS_URL=",
                 "DATABASE_URL=postgres://", "DIEMCAU_JANUS_PUBLIC_WS_URL=wss://"):
        assert line in env, line
    units = {name: (ROOT / "deploy/systemd" / f"diemcau-{name}.service").read_text()
             for name in ("web", "worker", "janus")}
    assert "--proxy-headers" in units["web"] and "127.0.0.1" in units["web"]
    assert "run_huey" in units["worker"] and "janus run --register" in units["janus"]
    for unit in units.values():
        assert "EnvironmentFile=/etc/diemcau/diemcau.env" in unit
    nginx = (ROOT / "deploy/nginx/diemcau.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto https" in nginx
    assert "location /janus-ws/" in nginx and "Upgrade $http_upgrade" in nginx
    readme = (ROOT / "README.md").read_text()
    assert readme.count("docs/production.md") >= 2 and "deploy/nginx/diemcau.conf" in readme


def test_make_run_keeps_deployment_warnings_for_production():
    makefile = (ROOT / "Makefile").read_text()
    assert "check --deploy" not in makefile
    run = (ROOT / "scripts/run.sh").read_text()
    assert "DIEMCAU_PUBLIC_URL=" in run
