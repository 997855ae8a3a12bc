"""Two ``kefu serve`` processes on PostgreSQL sharing events through Redis (``REDIS_URL``):
a ticket created through the API of one reaches a queue page's WebSocket on the other."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from websockets.sync.client import connect

from kefu.accounts.models import TokenScope
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant
from kefu.core.tests.sockets import REDIS_URL, redis_answers, session_cookie

pytestmark = [
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="several server processes need PostgreSQL (set DATABASE_URL)",
    ),
    pytest.mark.skipif(
        not redis_answers(), reason=f"no Redis at {REDIS_URL} (set KEFU_TEST_REDIS_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(env: dict[str, str]) -> Iterator[int]:
    """One ``kefu serve`` process (no task worker) on a free port; its port."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kefu", "serve", "--port", str(port), "--worker", "no"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "kefu serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def test_event_raised_in_one_server_reaches_a_socket_on_the_other(tenant_a: Tenant) -> None:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        # Its own prefix: other runs on the same Redis never hear these events.
        "KEFU_REDIS_PREFIX": f"kefu-test-{secrets.token_hex(4)}",
    }
    _token, raw = api_token_create(user=tenant_a.agent, name="crm", scope=TokenScope.WRITE)
    cookie = session_cookie(tenant_a.agent).decode()
    with (
        _serve(env) as first,
        _serve(env) as second,
        connect(
            f"ws://127.0.0.1:{second}/ws/queue/",
            additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{second}"},
            open_timeout=10,
        ) as queue,
    ):
        request = urllib.request.Request(
            f"http://127.0.0.1:{first}/api/v1/tickets",
            data=json.dumps(
                {"client": tenant_a.client.code, "subject": "跨进程", "body": "x"}
            ).encode(),
            headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            created = json.loads(response.read())["id"]
        event = json.loads(queue.recv(timeout=5))
    assert event == {"type": "ticket.changed", "ticket": created, "change": "created"}
