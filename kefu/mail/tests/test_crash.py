"""Killing ingestion at random points loses nothing and duplicates nothing.

`kefu email ingest` runs as a separate process on its own file database (SQLite, WAL, as
embedded kefu runs), is SIGKILLed after a random delay again and again, and finally runs to
the end. Every message must then be in kefu exactly once: one stored raw message, and at
most one ticket message, per Message-ID."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kefu.mail.tests.conftest import eml

FIXTURES = Path(__file__).parent / "fixtures"
KILLS = 12
MESSAGES = 60

SETUP = """
import django
django.setup()
from kefu.contracts.services import client_create
from kefu.mail.models import Mailbox
client = client_create(code="CRASH", name="崩溃测试")
Mailbox.objects.create(client=client, address="kefu@crash.example")
"""


def _env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEFU_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="kefu.settings")
    return env


def _kefu(*args: str) -> list[str]:
    return [sys.executable, "-m", "kefu", *args]


def test_sigkill_at_random_points_then_restart_keeps_every_message_once(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    env = _env(var)
    subprocess.run(_kefu("migrate", "--noinput"), env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, capture_output=True)

    folder = tmp_path / "mail"
    folder.mkdir()
    files = []
    for i in range(MESSAGES):
        path = folder / f"{i:03d}.eml"
        if i % 10 == 0:
            # a reply threading onto an earlier message, so appends are killed too
            raw = eml(
                subject=f"Re: 第{i - 10}封",
                message_id=f"<crash{i}@example.cn>",
                in_reply_to=f"<crash{max(i - 10, 1)}@example.cn>",
            )
        else:
            raw = eml(subject=f"第{i}封", message_id=f"<crash{i}@example.cn>", body="内容" * i)
        path.write_bytes(raw)
        files.append(path)
    for fixture in sorted(FIXTURES.glob("*.eml")):
        (folder / fixture.name).write_bytes(fixture.read_bytes())
        files.append(folder / fixture.name)

    rng = random.Random(20261130)
    command = _kefu("email", "ingest", "--client", "CRASH", *map(str, files))
    killed_with_work_done = 0
    for _ in range(KILLS):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 3.0))
        process.send_signal(signal.SIGKILL)
        out, _err = process.communicate()
        killed_with_work_done += bool(out.strip())
    final = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    results = [line for line in final.stdout.splitlines() if line.strip()]
    assert len(results) == len(files)

    db = sqlite3.connect(var / "kefu.sqlite3")
    rows = db.execute("SELECT dedup_key, result FROM mail_inboundmail").fetchall()
    keys = [key for key, _result in rows]
    assert len(keys) == len(set(keys)) == len(files)
    dup_messages = db.execute(
        "SELECT external_id, COUNT(*) FROM tickets_message WHERE external_id != '' "
        "GROUP BY external_id HAVING COUNT(*) > 1"
    ).fetchall()
    assert dup_messages == []
    linked = db.execute(
        "SELECT COUNT(*) FROM mail_inboundmail WHERE result IN ('created', 'appended') "
        "AND ticket_message_id IS NOT NULL"
    ).fetchone()[0]
    processed = sum(1 for _key, result in rows if result in ("created", "appended"))
    assert linked == processed
    created = sum(1 for _key, result in rows if result == "created")
    assert db.execute("SELECT COUNT(*) FROM tickets_ticket").fetchone()[0] == created
    # The kills did land in the middle of the work, not only before or after it.
    assert killed_with_work_done >= 3
