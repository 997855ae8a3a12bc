from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.backup import BackupError
from kefu.core.backup.create import backup_create
from kefu.core.backup.manifest import size_text
from kefu.core.backup.schedule import backup_audit


class Command(BaseCommand):
    help = (
        "备份 / Back up the database (SQLite: online, while kefu runs; PostgreSQL: pg_dump), "
        "uploads and mail files into the new directory --out, with a manifest of checksums. "
        "The keys (SECRET_KEY, KEFU_FIELD_KEYS, KEFU_INDEX_KEY) are not in it: keep them apart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="a directory not yet there")

    def handle(self, *args: Any, out: Path, **opts: Any) -> None:
        try:
            result = backup_create(out=Path(out), progress=opts["verbosity"] > 0)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        backup_audit(result)
        manifest = result.manifest
        files = len(manifest.files) - 1
        self.stdout.write(
            f"备份完成 / backup written: {result.path}\n"
            f"  {manifest.database_server}: {len(manifest.tables)} tables, "
            f"{manifest.rows} rows; files: {files}; {size_text(manifest.size)} "
            f"in {result.seconds:.1f} s"
        )
        for path in result.vanished:
            self.stdout.write(f"  已不存在，未备份 / gone before it could be copied: {path}")
        self.stdout.write(
            "  密钥不在备份中 / the keys are not in the backup: keep SECRET_KEY, "
            "KEFU_FIELD_KEYS and KEFU_INDEX_KEY apart (README, Backups)"
        )

