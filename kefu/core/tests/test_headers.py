"""What browsers and proxies are told to remember: HSTS in production by default, and
nothing at all of a signed-in page or an API answer (``Cache-Control: no-store``)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient

from kefu.conftest import Tenant, api_client, login
from kefu.privacy.crypto import generate_index_key, generate_key_line

_PROBE = (
    "from django.test import Client; r = Client().get('/login/', secure=True); "
    "print(r.status_code, r.get('Strict-Transport-Security', 'none'))"
)


def _production_hsts(tmp_path: Path, **extra: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "KEFU_PRODUCTION": "1",
        "KEFU_VAR_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "KEFU_FIELD_KEYS": generate_key_line(),
        "KEFU_INDEX_KEY": generate_index_key(),
        **extra,
    }
    result = subprocess.run(
        [sys.executable, "-m", "kefu", "shell", "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_sends_hsts_for_a_year_by_default(tmp_path: Path) -> None:
    assert _production_hsts(tmp_path) == "200 max-age=31536000"


def test_hsts_lifetime_and_subdomains_are_the_operators_choice(tmp_path: Path) -> None:
    assert (
        _production_hsts(tmp_path, KEFU_HSTS_SECONDS="600", KEFU_HSTS_INCLUDE_SUBDOMAINS="1")
        == "200 max-age=600; includeSubDomains"
    )
    assert _production_hsts(tmp_path, KEFU_HSTS_SECONDS="0") == "200 none"


def _no_store(response: object) -> bool:
    return "no-store" in response.get("Cache-Control", "")  # type: ignore[attr-defined]


def test_signed_in_pages_are_never_stored(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    for url in ("/tickets/", f"/tickets/{tenant_a.ticket.pk}/", "/account/tokens/"):
        response = http.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url
    # The page that shows a new token in clear, once.
    created = http.post("/account/tokens/", {"name": "crm", "scope": "read"})
    assert created.status_code == 200 and _no_store(created)


def test_api_answers_are_never_stored(tenant_a: Tenant) -> None:
    ok = api_client(tenant_a.agent).get("/api/v1/tickets")
    assert ok.status_code == 200 and _no_store(ok)
    refused = HttpClient().get("/api/v1/tickets")
    assert refused.status_code == 401 and _no_store(refused)


@pytest.mark.django_db
def test_static_files_keep_their_caching() -> None:
    response = HttpClient().get("/static/kefu/kefu.css")
    assert response.status_code == 200
    assert not _no_store(response)
