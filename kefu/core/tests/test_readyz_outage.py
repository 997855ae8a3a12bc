"""``/readyz`` of a real ``kefu serve`` turns unready (503, JSON naming the part) when its
PostgreSQL or its Redis stops, and ready again when each comes back, without restarting
kefu. Both are private instances of this test (kefu/core/tests/instances.py): the machine's
shared services are never stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kefu.core.tests.instances import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres_available,
    private_redis_available,
)
from kefu.core.tests.servers import serve

pytestmark = [
    pytest.mark.skipif(
        not private_postgres_available(), reason="PostgreSQL's initdb/pg_ctl are not installed"
    ),
    pytest.mark.skipif(not private_redis_available(), reason="redis-server is not installed"),
]

ROOT = Path(__file__).resolve().parents[3]


def _readyz(port: int) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.headers.get("Content-Type", "").startswith("application/json")
        return exc.code, json.loads(exc.read())


def _until(port: int, status: int, timeout: float = 30) -> dict[str, object]:
    """The first ``/readyz`` answer with ``status`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got, body = _readyz(port)
        if got == status:
            return body
        assert time.monotonic() < deadline, f"/readyz stayed {got}: {body}"
        time.sleep(0.3)


def _failing(body: dict[str, object]) -> set[str]:
    checks = body["checks"]
    assert isinstance(checks, dict)
    return {name for name, check in checks.items() if not check["ok"] and check["required"]}


@pytest.fixture
def instances() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    postgres, redis = PrivatePostgres(), PrivateRedis()
    try:
        postgres.start()
        postgres.createdb("kefu")
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.remove()


def test_readyz_follows_postgresql_and_redis(
    instances: tuple[PrivatePostgres, PrivateRedis], tmp_path: Path
) -> None:
    postgres, redis = instances
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url("kefu"),
        "REDIS_URL": redis.url(),
        "KEFU_VAR_DIR": str(tmp_path / "var"),
        "KEFU_LOG_LEVEL": "WARNING",
    }
    migrated = subprocess.run(
        [sys.executable, "-m", "kefu", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    with serve(env) as port:
        body = _until(port, 200)
        assert body["status"] in ("ok", "warning")

        postgres.stop()
        body = _until(port, 503, timeout=15)
        # The task queue is read from the database: it cannot be checked either.
        assert body["status"] == "unready" and _failing(body) <= {"database", "task_queue"}
        assert "database" in _failing(body)
        # The answer names what failed without the connection string.
        assert postgres.url("kefu") not in json.dumps(body)

        postgres.start()
        body = _until(port, 200)
        assert _failing(body) == set()

        redis.stop()
        body = _until(port, 503, timeout=15)
        assert body["status"] == "unready" and _failing(body) == {"redis"}

        redis.start()
        body = _until(port, 200)
        assert _failing(body) == set()
