"""Everything kefu keeps under its var directory is readable by kefu's user alone: the
database (sessions, message bodies, raw mail), uploads, mail files and keys."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

_WORK = """
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from kefu.contracts.services import client_create
from kefu.tickets import services

client = client_create(code="ACME", name="甲方A")
ticket = services.ticket_create(client=client, subject="发票", body="请开发票", channel="email")
upload = SimpleUploadedFile("发票.pdf", b"%PDF-1.4 test", content_type="application/pdf")
services.ticket_add_note(ticket=ticket, actor=None, body="附件", attachments=[upload])
mail.send_mail("工单提醒", "正文", "kefu@localhost", ["agent@example.com"])
"""


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def test_database_uploads_and_mail_files_are_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    old_secret = var / "secret_key"  # as an earlier version may have left it
    old_secret.write_text("x" * 50)
    old_secret.chmod(0o644)
    env = {**os.environ, "KEFU_VAR_DIR": str(var)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "kefu", "migrate", "-v0"], env=env, check=True, timeout=300
    )
    subprocess.run(
        [sys.executable, "-m", "kefu", "shell", "-c", _WORK], env=env, check=True, timeout=120
    )
    modes = _modes(var)
    names = set(modes)
    assert {"kefu.sqlite3", "secret_key", "field_keys", "index_key", "mail"} <= names
    assert any(n.startswith("media/") and n.endswith(".pdf") for n in names), names
    assert any(n.startswith("mail/") and n.endswith(".log") for n in names), names
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (var / name).is_dir() else 0o600)
    }
    assert wrong == {}
