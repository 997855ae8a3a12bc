from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from kefu.core.backup import BackupError
from kefu.core.backup.manifest import size_text
from kefu.core.backup.restore import backup_restore


class Command(BaseCommand):
    help = (
        "恢复 / Restore a backup made by `kefu backup` onto an EMPTY database (refused "
        "otherwise), after checking every file's checksum; then its files; then the row "
        "counts against the manifest. On the embedded database kefu must be stopped."
    )
    # Nothing may open the database before the restore has looked at it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="the directory `kefu backup --out` made")

    def handle(self, *args: Any, backup: Path, **opts: Any) -> None:
        verbosity = opts["verbosity"]

        def say(line: str) -> None:
            if verbosity > 0:
                self.stdout.write(line)

        if connections["default"].vendor == "sqlite":
            say(
                "嵌入式数据库：恢复期间 kefu 必须停止 (serve、worker、scheduler) / embedded "
                "database: kefu (serve, worker, scheduler) must be stopped while it is restored"
            )
        try:
            result = backup_restore(path=Path(backup), progress=verbosity > 0, say=say)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        made_by = manifest.kefu_version + (
            f" ({manifest.kefu_commit[:12]})" if manifest.kefu_commit else ""
        )
        restored = sum(result.files.values())
        by_root = ", ".join(f"{root} {n}" for root, n in sorted(result.files.items())) or "—"
        self.stdout.write(
            f"恢复完成 / restored into {result.database.describe()}\n"
            f"  备份时间 / made {manifest.created_at} by kefu {made_by}, "
            f"{manifest.database_server}\n"
            f"  {len(result.inventory.tables)} tables, {manifest.rows} rows: "
            f"每张表的行数与清单一致 / every table's row count matches the manifest\n"
            f"  files: {restored} ({by_root}); "
            f"{size_text(manifest.size)} checked in {result.seconds:.1f} s"
        )
        if verbosity > 1:
            for table, rows in sorted(result.inventory.tables.items()):
                self.stdout.write(f"    {table:48} {rows}")
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"  注意 / warning: {warning}"))
        if result.needs_migrate:
            self.stdout.write(
                "  下一步 / next: `kefu migrate` (this kefu is newer than the backup)"
            )
        self.stdout.write(
            "  下一步 / next: set SECRET_KEY, KEFU_FIELD_KEYS and KEFU_INDEX_KEY as they were "
            "when the backup was made, then start kefu"
        )
