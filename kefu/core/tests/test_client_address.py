"""The address kefu logs and throttles logins by is the peer's, or the one a configured
proxy (``KEFU_TRUSTED_PROXIES``) passes in ``X-Forwarded-For`` — never one a client writes
into that header itself."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as HttpClient

from kefu.conftest import PASSWORD, Tenant, api_client
from kefu.core.models import AuditEvent
from kefu.core.net import trusted_proxies
from kefu.core.tests.test_serve import _free_port, _get


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert trusted_proxies("") == []
    assert trusted_proxies(" 10.0.0.5, 10.0.1.0/24 ,::1") == ["10.0.0.5", "10.0.1.0/24", "::1"]
    for bad in ("*", "nginx", "10.0.0.1/24", "10.0.0.300"):
        with pytest.raises(ValueError):
            trusted_proxies(bad)


def test_a_bad_trusted_proxies_setting_stops_kefu(tmp_path: Path) -> None:
    env = {**os.environ, "KEFU_VAR_DIR": str(tmp_path), "KEFU_TRUSTED_PROXIES": "nginx"}
    result = subprocess.run(
        [sys.executable, "-m", "kefu", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "KEFU_TRUSTED_PROXIES" in result.stderr
    assert ImproperlyConfigured.__name__ in result.stderr


def test_a_forged_header_changes_neither_the_lockout_nor_the_audit_address(
    tenant_a: Tenant,
) -> None:
    name = tenant_a.agent.username
    for n in range(5):
        http = HttpClient(REMOTE_ADDR="10.1.2.3", headers={"X-Forwarded-For": f"192.0.2.{n}"})
        http.post("/login/", {"username": name, "password": "wrong"})
    # Five failures from 10.1.2.3, whatever the header said: locked.
    locked = HttpClient(REMOTE_ADDR="10.1.2.3", headers={"X-Forwarded-For": "192.0.2.99"})
    assert locked.post("/login/", {"username": name, "password": PASSWORD}).status_code == 429

    reveal = api_client(tenant_a.supervisor).post(
        f"/api/v1/customers/{tenant_a.customer.pk}/reveal",
        {"field": "phones", "reason": "回拨"},
        content_type="application/json",
        headers={"X-Forwarded-For": "192.0.2.7"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert reveal.status_code == 200, reveal.content
    assert AuditEvent.objects.latest("id").ip == "10.9.8.7"


# Through a real `kefu serve`: uvicorn is what reads X-Forwarded-For.


def _login(port: int, username: str, password: str, forwarded_for: str) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    base = f"http://127.0.0.1:{port}"
    headers = {"X-Forwarded-For": forwarded_for}
    login_page = urllib.request.Request(f"{base}/login/", headers=headers)  # noqa: S310
    with opener.open(login_page) as page:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert match
    form = {"csrfmiddlewaretoken": match[1], "username": username, "password": password}
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        f"{base}/login/", data=urllib.parse.urlencode(form).encode(), headers=headers
    )
    try:
        with opener.open(request) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _serve(var: Path, port: int, trusted: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KEFU_VAR_DIR": str(var), "KEFU_TRUSTED_PROXIES": trusted}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port), "--worker", "no"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGINT)
    out, _ = server.communicate(timeout=30)
    return out


def _attempt_addresses(var: Path, username: str) -> set[str]:
    with sqlite3.connect(var / "kefu.sqlite3") as db:
        rows = db.execute(
            "SELECT ip_address FROM axes_accessattempt WHERE username = ?", (username,)
        )
        return {row[0] for row in rows}


def test_kefu_serve_honours_forwarded_for_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    env = {**os.environ, "KEFU_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    kefu = [sys.executable, "-m", "kefu"]
    subprocess.run([*kefu, "migrate", "-v0"], env=env, check=True, timeout=300)
    make_users = (
        "from kefu.accounts.models import User\n"
        "for name in ('direct', 'proxied'):\n"
        f"    User.objects.create_user(name, password={PASSWORD!r}, role='agent')\n"
    )
    subprocess.run([*kefu, "shell", "-c", make_users], env=env, check=True, timeout=120)

    # No proxy configured: a client on 127.0.0.1 forging the header is 127.0.0.1.
    port = _free_port()
    server = _serve(tmp_path, port, "")
    try:
        assert _get(f"http://127.0.0.1:{port}/login/", time.monotonic() + 60) == 200
        for n in range(5):
            _login(port, "direct", "wrong", f"203.0.113.{n}")
        assert _login(port, "direct", PASSWORD, "198.51.100.9") == 429
    finally:
        out = _stop(server)
    assert _attempt_addresses(tmp_path, "direct") == {"127.0.0.1"}, out

    # 127.0.0.1 configured as the proxy: its header names the client.
    port = _free_port()
    server = _serve(tmp_path, port, "127.0.0.1")
    try:
        assert _get(f"http://127.0.0.1:{port}/login/", time.monotonic() + 60) == 200
        for _ in range(5):
            _login(port, "proxied", "wrong", "203.0.113.7")
        assert _login(port, "proxied", PASSWORD, "203.0.113.7") == 429
        assert _login(port, "proxied", PASSWORD, "198.51.100.9") == 302  # another client
    finally:
        out = _stop(server)
    assert _attempt_addresses(tmp_path, "proxied") == {"203.0.113.7"}, out
