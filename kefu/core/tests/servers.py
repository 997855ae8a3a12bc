"""Real ``kefu serve`` processes for the tests that need more than one (Redis, nginx)."""

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

from django.db import connection

from kefu.core.tests.sockets import REDIS_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shared_env(**extra: str) -> dict[str, str]:
    """The environment of server processes sharing the test database (PostgreSQL) and
    Redis, under a Redis prefix of their own (other runs on the same Redis hear nothing)."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "KEFU_REDIS_PREFIX": f"kefu-test-{secrets.token_hex(4)}",
        **extra,
    }


@contextmanager
def serve(env: dict[str, str], port: int | None = None) -> Iterator[int]:
    """One ``kefu serve`` process (no task worker) on a free port; its port. Stopped with
    SIGINT (as systemd does) when the block ends."""
    port = port or free_port()
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
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "kefu serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
