"""Helpers for tests of live pages: a WebSocket to kefu's Channels routes (the same stack
``kefu serve`` runs: origin check, session user, routes), as a logged-in user or nobody.

Consumers read the database on the test's own thread (Channels' ``database_sync_to_async``
under ``async_to_sync``), and Channels closes that thread's "old" connections around each
read, which would end a test's surrounding transaction: tests that open sockets use
``django_db(transaction=True)``."""

from __future__ import annotations

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
from typing import Any

import redis
from channels.testing.websocket import WebsocketCommunicator

from kefu.accounts.models import User
from kefu.asgi import websocket_application
from kefu.conftest import login

ORIGIN = b"http://127.0.0.1"
REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers() -> bool:
    """Whether the Redis of the tests that need one (``KEFU_TEST_REDIS_URL``) is there."""
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def session_cookie(user: User) -> bytes:
    """The cookie of a fresh login of ``user`` (call outside the async part of a test)."""
    return f"sessionid={login(user).cookies['sessionid'].value}".encode()


async def open_socket(
    path: str, cookie: bytes | None = None, origin: bytes = ORIGIN
) -> tuple[WebsocketCommunicator, bool, Any]:
    """``(socket, accepted, close code)``; a refused socket is already closed."""
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    socket = WebsocketCommunicator(websocket_application(), path, headers=headers)
    accepted, code = await socket.connect(timeout=5)
    return socket, accepted, code


async def events(socket: WebsocketCommunicator, *, until: str, timeout: float = 3) -> list[Any]:
    """The JSON events the socket receives, up to and including the first of type
    ``until`` (an AssertionError if none comes within ``timeout`` seconds each)."""
    seen: list[Any] = []
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        seen.append(event)
        if event.get("type") == until:
            return seen


def servers_env() -> dict[str, str]:
    """The environment of server processes that share the test's PostgreSQL database and
    a Redis channel layer (``kefu_serve``), under a Redis prefix of their own: other runs
    on the same Redis never hear their events. Call inside a ``transaction=True`` test."""
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "KEFU_REDIS_PREFIX": f"kefu-test-{secrets.token_hex(4)}",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def kefu_serve(env: dict[str, str]) -> Iterator[int]:
    """One real ``kefu serve`` process (no task worker) on a free port, with ``env``; its
    port once it answers. Stopped with SIGINT, as an operator's Ctrl-C, on leaving."""
    port = free_port()
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
