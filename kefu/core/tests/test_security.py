from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from kefu.conftest import PASSWORD, Tenant, api_client, login
from kefu.privacy.crypto import generate_index_key, generate_key_line


@pytest.mark.django_db
def test_pages_send_a_strict_policy_and_have_no_inline_script() -> None:
    r = HttpClient().get("/login/")
    csp = r["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
    html = r.content.decode()
    inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s]
    assert inline == []


def test_workspace_pages_reference_only_local_assets(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    for url in ("/tickets/", f"/tickets/{tenant_a.ticket.pk}/", "/api/v1/docs"):
        html = http.get(url).content.decode()
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not ref.startswith(("http://", "https://", "//")), (url, ref)


def _main_pages(t: Tenant) -> list[str]:
    return [
        "/tickets/",
        f"/tickets/{t.ticket.pk}/",
        "/tickets/overview/",
        "/tickets/escalations/",
        "/sla/",
        "/reports/",
        f"/reports/dashboard/{t.client.code}/",
        "/account/tokens/",
    ]


def _assert_protective_headers(r: Any, where: str) -> None:
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
    assert "object-src 'none'" in csp, where
    assert r["X-Content-Type-Options"] == "nosniff", where
    assert r["X-Frame-Options"] == "DENY", where
    assert r["Referrer-Policy"] == "same-origin", where
    assert r["Cross-Origin-Opener-Policy"] == "same-origin", where


def test_every_main_page_and_the_api_send_the_protective_headers(tenant_a: Tenant) -> None:
    http = login(tenant_a.supervisor)
    for url in _main_pages(tenant_a):
        r = http.get(url)
        assert r.status_code == 200, url
        _assert_protective_headers(r, url)
    api = api_client(tenant_a.agent)
    for url in ("/api/v1/tickets", f"/api/v1/tickets/{tenant_a.ticket.pk}", "/api/v1/nope"):
        _assert_protective_headers(api.get(url), url)
    _assert_protective_headers(HttpClient().get("/api/v1/tickets"), "401")


def test_login_sets_cookies_scripts_cannot_read_and_other_sites_cannot_send(
    tenant_a: Tenant,
) -> None:
    http = HttpClient()
    csrf = http.get("/login/").cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    r = http.post("/login/", {"username": tenant_a.agent.username, "password": PASSWORD})
    assert r.status_code == 302
    session = r.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert int(session["max-age"]) == 8 * 3600  # a working day, then sign in again
    assert not session["secure"]  # the embedded default runs on plain http://127.0.0.1


def test_htmx_gets_the_csrf_token_from_the_page_not_the_cookie(tenant_a: Tenant) -> None:
    html = login(tenant_a.agent).get("/tickets/").content.decode()
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[\w-]{20,}\"\}'", html)


@pytest.mark.django_db
def test_production_settings_pass_the_deploy_checks(tmp_path: Path) -> None:
    """``kefu check --deploy`` in production mode with the settings an operator behind TLS
    sets: no warning at all (secure cookies, HSTS, redirect, no debug, real secret)."""
    # Only these variables: whatever else the test run has set must not leak in.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "KEFU_PRODUCTION": "1",
        "KEFU_VAR_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kefu.example.cn",
        "KEFU_HSTS_SECONDS": "31536000",
        "KEFU_HSTS_INCLUDE_SUBDOMAINS": "1",
        "KEFU_HSTS_PRELOAD": "1",
        "KEFU_SSL_REDIRECT": "1",
        "KEFU_FIELD_KEYS": generate_key_line(),
        "KEFU_INDEX_KEY": generate_index_key(),
    }
    result = subprocess.run(
        [sys.executable, "-m", "kefu", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
