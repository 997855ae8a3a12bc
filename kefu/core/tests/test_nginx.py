"""The sample nginx site (deploy/nginx/kefu.conf), run by Debian's nginx in front of two
real ``kefu serve`` processes on PostgreSQL and Redis: pages, static files from nginx,
the chat widget's WebSocket through the upgrade, the upload limit, the client's address
passed to kefu, and service going on when one process stops."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.sync.client import connect

from kefu.chat.services import widget_create
from kefu.conftest import Tenant
from kefu.core.tests.servers import free_port, serve, shared_env
from kefu.core.tests.sockets import REDIS_URL, redis_answers

SAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "kefu.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx)"),
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="several server processes need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.skipif(
        not redis_answers(), reason=f"no Redis at {REDIS_URL} (set KEFU_TEST_REDIS_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def _site(listen: int, first: int, second: int, static: Path) -> str:
    """The sample with this test's ports and paths; each replaced value must be in it."""
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{first} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{second} "),
        ("alias /srv/kefu/static/;", f"alias {static}/;"),
    ):
        assert old in text, f"deploy/nginx/kefu.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


@contextmanager
def _nginx(prefix: Path, site: str) -> Iterator[None]:
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "site.conf").write_text(site, encoding="utf-8")
    (prefix / "nginx.conf").write_text(
        f"""
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
""",
        encoding="utf-8",
    )
    assert NGINX is not None
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A directory nginx's workers (another user) can read, unlike pytest's tmp_path."""
    path = Path(tempfile.mkdtemp(prefix="kefu-static-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_two_servers_behind_the_sample_nginx_site(
    tenant_a: Tenant, tmp_path: Path, public_dir: Path
) -> None:
    var, static = tmp_path / "var", public_dir / "static"
    env = shared_env(
        KEFU_VAR_DIR=str(var), KEFU_STATIC_ROOT=str(static), KEFU_TRUSTED_PROXIES="127.0.0.1"
    )
    listen = free_port()
    site = f"http://127.0.0.1:{listen}"
    collected = subprocess.run(
        [sys.executable, "-m", "kefu", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    widget = widget_create(client=tenant_a.client, origins=["https://www.shop-a.example"])
    first_port, second_port = free_port(), free_port()
    with (
        serve(env, second_port),
        _nginx(tmp_path / "nginx", _site(listen, first_port, second_port, static)),
    ):
        with serve(env, first_port):
            status, _headers, body = _get(f"{site}/healthz")
            assert status == 200 and json.loads(body)["status"] == "ok"

            # Static files come from nginx (its cache header), the bytes kefu ships.
            status, headers, body = _get(f"{site}/static/kefu/kefu.css")
            assert status == 200 and headers.get("Cache-Control") == "max-age=604800"
            shipped = Path(__file__).resolve().parents[2] / "static" / "kefu" / "kefu.css"
            assert body == shipped.read_bytes()

            # The chat widget's socket through the upgrade, from the client's website.
            with connect(
                f"ws://127.0.0.1:{listen}/ws/chat/widget/{widget.key}/",
                additional_headers={"Origin": "https://www.shop-a.example"},
                open_timeout=10,
            ) as chat:
                hello = json.loads(chat.recv(timeout=10))
            assert hello["type"] == "hello" and hello["client"] == tenant_a.client.name

            # Above client_max_body_size nginx answers 413 itself.
            conn = http.client.HTTPConnection("127.0.0.1", listen, timeout=30)
            conn.request(
                "POST",
                "/api/v1/tickets",
                body=b"x" * (26 * 1024 * 1024),
                headers={"Content-Type": "application/json"},
            )
            assert conn.getresponse().status == 413
            conn.close()
            assert [_get(f"{site}/healthz")[0] for _ in range(4)] == [200] * 4
        # The first process has stopped: nginx sends everything to the second.
        assert [_get(f"{site}/healthz")[0] for _ in range(6)] == [200] * 6
