"""`kefu backup` and `kefu restore` as an operator runs them: a backup of a running
installation restored into a new one (a new KEFU_VAR_DIR and, on PostgreSQL, a new
database), which then shows the same tickets, customers and attachments."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from kefu.conftest import Tenant
from kefu.core.backup.database import Database
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.tests.backup_support import fresh_database, pg_dump_or_skip
from kefu.tickets import services

pytestmark = pytest.mark.django_db(transaction=True)

_LOOK = """
import json
from kefu.tickets.models import Attachment, Ticket
ticket = Ticket.objects.get(number=NUMBER)
attachment = Attachment.objects.get(ticket=ticket)
print("RESULT " + json.dumps({
    "tickets": Ticket.objects.count(),
    "customer": ticket.customer.name,
    "attachment": attachment.file.read().decode(),
    "file": attachment.file.name,
}, ensure_ascii=False))
"""


def _kefu(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kefu", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _environment(var: Path, target: Database) -> dict[str, str]:
    env = {**os.environ, "KEFU_VAR_DIR": str(var)}
    env.pop("KEFU_MAIL_OUTBOX", None)
    if target.kind == "sqlite":
        env.pop("DATABASE_URL", None)
    else:
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{(target.params or {})['dbname']}"))
    return env


def test_backup_then_restore_into_a_new_installation(
    tenant_a: Tenant, tmp_path: Path, settings: object
) -> None:
    pg_dump_or_skip()
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    settings.EMAIL_FILE_PATH = tmp_path / "mail"  # type: ignore[attr-defined]
    services.ticket_add_note(
        ticket=tenant_a.ticket,
        actor=tenant_a.agent,
        body="保修卡见附件",
        attachments=[
            SimpleUploadedFile("保修卡.pdf", b"%PDF-1.4 warranty", content_type="application/pdf")
        ],
    )
    out = io.StringIO()
    call_command("backup", out=str(tmp_path / "backup"), stdout=out, verbosity=0)
    assert "备份完成 / backup written" in out.getvalue()
    assert "the keys are not in the backup" in out.getvalue()
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, field="backup").count() == 1

    # The new installation gets the keys the operator kept apart; the backup has none.
    var = tmp_path / "new-var"
    var.mkdir(mode=0o700)
    (var / "field_keys").write_text(settings.KEFU_FIELD_KEYS)  # type: ignore[attr-defined]
    (var / "index_key").write_text(settings.KEFU_INDEX_KEY)  # type: ignore[attr-defined]
    with fresh_database(tmp_path) as target:
        env = _environment(var, target)
        restored = _kefu(env, "restore", str(tmp_path / "backup"))
        assert restored.returncode == 0, restored.stderr
        assert "every table's row count matches the manifest" in restored.stdout
        assert "files: 1 (media 1)" in restored.stdout
        if target.kind == "sqlite":
            assert "kefu (serve, worker, scheduler) must be stopped" in restored.stdout
        assert "warning" not in restored.stdout  # the same keys: nothing to warn of

        look = _kefu(env, "shell", "-c", _LOOK.replace("NUMBER", repr(tenant_a.ticket.number)))
        assert look.returncode == 0, look.stderr
        (line,) = [x for x in look.stdout.splitlines() if x.startswith("RESULT ")]
        assert json.loads(line.removeprefix("RESULT ")) == {
            "tickets": 1,
            "customer": "王小明",  # encrypted at rest: read with the kept keys
            "attachment": "%PDF-1.4 warranty",
            "file": f"attachments/{tenant_a.client.pk}/{tenant_a.ticket.pk}/保修卡.pdf",
        }

        again = _kefu(env, "restore", str(tmp_path / "backup"))
        assert again.returncode == 1
        assert "the target database is not empty" in again.stderr
