"""`kefu serve --workers N`: N server processes on one port, stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, deadline: float) -> int:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                return int(response.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_server_processes_answer_on_one_port_and_stop_together(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "KEFU_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # the login page needs no tables; no worker is started
    command = [sys.executable, "-m", "kefu", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--worker", "no"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        for _ in range(6):
            assert _get(f"http://127.0.0.1:{port}/login/", deadline) == 200
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert "(2 server processes)" in out
    assert out.count("Started server process") == 2, out
    assert out.count("Finished server process") == 2, out


def test_workers_must_be_at_least_one() -> None:
    with pytest.raises(CommandError, match="--workers"):
        call_command("serve", "--workers", "0")
