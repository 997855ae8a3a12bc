"""Two ``kefu serve`` processes on PostgreSQL sharing events through Redis (``REDIS_URL``):
a ticket created through the API of one reaches a queue page's WebSocket on the other."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from websockets.sync.client import connect

from kefu.accounts.models import TokenScope
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant
from kefu.core.tests.sockets import (
    REDIS_URL,
    kefu_serve,
    redis_answers,
    servers_env,
    session_cookie,
)

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


def test_event_raised_in_one_server_reaches_a_socket_on_the_other(tenant_a: Tenant) -> None:
    env = servers_env()
    _token, raw = api_token_create(user=tenant_a.agent, name="crm", scope=TokenScope.WRITE)
    cookie = session_cookie(tenant_a.agent).decode()
    with (
        kefu_serve(env) as first,
        kefu_serve(env) as second,
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
