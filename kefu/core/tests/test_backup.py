"""A backup taken while agents keep writing restores onto a new database with every
ticket, message, attachment and audit event it promised: the rows of its snapshot, no more
and no fewer, and each attachment byte for byte."""

from __future__ import annotations

import hashlib
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from kefu.conftest import Tenant
from kefu.core.backup.create import backup_create
from kefu.core.backup.database import Database
from kefu.core.backup.manifest import manifest_read
from kefu.core.backup.restore import backup_restore
from kefu.core.models import AuditEvent
from kefu.core.tests.backup_support import fresh_database, pg_dump_or_skip, rows, sha256
from kefu.privacy.reveal import message_reveal
from kefu.tickets import services
from kefu.tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)

# What must come back, per table: enough columns to tell a row restored from one altered.
CHECKED = {
    "tickets": (Ticket._meta.db_table, "id, number, subject, client_id"),
    "messages": (Message._meta.db_table, "id, ticket_id, direction, body_text"),
    "attachments": (Attachment._meta.db_table, "id, message_id, file, size"),
    "ticket events": (TicketEvent._meta.db_table, "id, ticket_id, type"),
    "audit events": (AuditEvent._meta.db_table, "id, action, object_id, reason"),
}


class Writer(threading.Thread):
    """An agent opening tickets with an attachment, and a supervisor revealing each one's
    text (an audit event), until told to stop."""

    def __init__(self, tenant: Tenant) -> None:
        super().__init__(daemon=True)
        self.tenant = tenant
        self.stop = threading.Event()
        self.snapshot_held = threading.Event()
        self.lock = threading.Lock()
        self.committed: list[int] = []
        self.begun_while_held: list[int] = []  # committed, and begun after the snapshot
        self.contents: dict[str, str] = {}  # stored file name -> SHA-256 of what was sent
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                after_snapshot = self.snapshot_held.is_set()
                ticket_id = self._write(n)
                with self.lock:
                    self.committed.append(ticket_id)
                    if after_snapshot:
                        self.begun_while_held.append(ticket_id)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            connections.close_all()

    def _write(self, n: int) -> int:
        content = b"%PDF-1.4\n" + f"发票 {n}\n".encode() * (200 + n)
        opened = services.ticket_open(
            client=self.tenant.client,
            subject=f"备份期间的来信 {n}",
            body=f"第 {n} 张发票，请查收。",
            channel="email",
            customer=self.tenant.customer,
            actor=self.tenant.agent,
            attachments=[
                SimpleUploadedFile(f"invoice-{n}.pdf", content, content_type="application/pdf")
            ],
        )
        assert opened.message is not None
        stored = opened.message.attachments.get().file.name
        with self.lock:
            self.contents[stored] = sha256_bytes(content)
        message_reveal(user=self.tenant.supervisor, message=opened.message, reason=f"核对 {n}")
        return opened.ticket.pk

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.errors:
                raise self.errors[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"the writer did not get {what} within {timeout} s")
            time.sleep(0.01)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked_rows(db: Database | None) -> dict[str, set[tuple[object, ...]]]:
    return {name: rows(db, table, columns) for name, (table, columns) in CHECKED.items()}


def test_backup_while_tickets_are_written_restores_every_row(
    tenant_a: Tenant, tmp_path: Path, settings: object
) -> None:
    pg_dump_or_skip()
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media  # type: ignore[attr-defined]
    writer = Writer(tenant_a)
    writer.start()
    try:
        writer.wait(lambda: len(writer.committed) >= 3, "3 tickets in")
        before = _checked_rows(None)

        def while_held() -> None:
            # Writes go on while the snapshot is held; none of those begun now is in it.
            writer.snapshot_held.set()
            writer.wait(lambda: len(writer.begun_while_held) >= 3, "3 tickets in meanwhile")

        made = backup_create(out=tmp_path / "backup", roots={"media": media}, while_held=while_held)
        writer.wait(lambda: len(writer.committed) >= len(before["tickets"]) + 8, "more tickets")
    finally:
        writer.stop.set()
        writer.join(timeout=120)
    assert writer.errors == []
    after = _checked_rows(None)
    began_while_held = set(writer.begun_while_held)

    with fresh_database(tmp_path) as target:
        restored_media = tmp_path / "restored-media"
        result = backup_restore(
            path=made.path, database=target, roots={"media": restored_media}
        )
        restored = _checked_rows(target)

    # Everything written before the backup began is there, nothing is invented, and what
    # began once the snapshot was held is not.
    for name in CHECKED:
        assert before[name] <= restored[name] <= after[name], name
    restored_tickets = {row[0] for row in restored["tickets"]}
    assert began_while_held and not began_while_held & restored_tickets
    assert {row[0] for row in after["tickets"]} - restored_tickets >= began_while_held
    # Each ticket comes back with its messages, its attachment and the reveal of its text.
    per_ticket = Counter(row[1] for row in restored["messages"])
    first = tenant_a.ticket.pk
    assert per_ticket[first] == sum(1 for row in before["messages"] if row[1] == first)
    assert {t: n for t, n in per_ticket.items() if t != first} == dict.fromkeys(
        restored_tickets - {first}, 1
    )
    revealed = {row[2] for row in restored["audit events"] if row[1] == "reveal"}
    assert revealed and revealed <= {str(row[0]) for row in restored["messages"]}
    # The row counts the manifest promised are the ones restored.
    tables = made.manifest.tables
    for name, (table, _columns) in CHECKED.items():
        assert tables[table] == len(restored[name]), name
    assert result.inventory.tables == tables
    # Every attachment's file, byte for byte as the customer sent it.
    assert len(restored["attachments"]) == len(restored["tickets"]) - 1
    for _id, _message, stored, size in restored["attachments"]:
        file = restored_media / str(stored)
        assert sha256(file) == writer.contents[str(stored)]
        assert file.stat().st_size == size
    assert result.files["media"] >= len(restored["attachments"])


def test_a_backup_is_private_and_lists_every_file_with_its_checksum(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    pg_dump_or_skip()
    media, outbox = tmp_path / "media", tmp_path / "mail" / "outbox"
    (media / "attachments" / "1").mkdir(parents=True)
    (media / "attachments" / "1" / "报价单.pdf").write_bytes(b"%PDF-1.4 quote")
    outbox.mkdir(parents=True)
    (outbox / "abc@kefu.eml").write_bytes(b"Subject: hi\r\n\r\nhello")
    (tmp_path / "mail" / "20261201-notice.log").write_bytes(b"notice")

    made = backup_create(
        out=tmp_path / "backups" / "one",
        roots={"media": media, "mail": tmp_path / "mail", "outbox": outbox},
    )

    manifest = manifest_read(made.path)
    listed = {f.path: f for f in manifest.files}
    assert set(listed) == {
        manifest.database_file,
        "files/media/attachments/1/报价单.pdf",
        "files/mail/20261201-notice.log",  # the outbox inside the mail directory: once
        "files/outbox/abc@kefu.eml",
    }
    for path, entry in listed.items():
        assert sha256(made.path / path) == entry.sha256
    assert manifest.tables[Ticket._meta.db_table] == 1
    assert manifest.migrations["tickets"].startswith("00")
    assert manifest.created_at.endswith("+08:00")  # Asia/Shanghai
    modes = {
        str(p.relative_to(made.path)): stat.S_IMODE(p.stat().st_mode)
        for p in [made.path, *made.path.rglob("*")]
    }
    assert {m for p, m in modes.items() if (made.path / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if (made.path / p).is_file()} == {0o600}
    # Nothing half-made is left beside it.
    assert [p.name for p in (tmp_path / "backups").iterdir()] == ["one"]
