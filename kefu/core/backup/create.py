"""Making a backup: :func:`backup_create`."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from kefu.core.backup import BackupError
from kefu.core.backup.database import Database, Inventory
from kefu.core.backup.files import file_roots, files_copy, fsync_dir
from kefu.core.backup.manifest import (
    DATABASE_FILES,
    FileEntry,
    Manifest,
    field_key_fingerprints,
    file_sha256,
    fingerprint,
    kefu_commit,
    kefu_version,
    manifest_write,
)
from kefu.core.backup.postgres import pg_snapshot
from kefu.core.backup.sqlite import sqlite_snapshot, sqlite_version


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    seconds: float
    vanished: list[str]  # files that went away before they could be copied


def backup_create(
    *,
    out: Path,
    database: Database | None = None,
    roots: Mapping[str, Path] | None = None,
    progress: bool = False,
    while_held: Callable[[], None] | None = None,
) -> BackupResult:
    """Back up ``database`` (default: kefu's own) and the files of ``roots`` (default: this
    installation's, :func:`~kefu.core.backup.files.file_roots`) into the new directory
    ``out``, while kefu keeps running. ``out`` must not exist, or be an empty directory.

    ``progress`` shows progress bars on stderr. ``while_held`` is called while the
    database snapshot is held (what commits from then on is not in the backup).
    BackupError when the backup cannot be made; nothing is left at ``out`` then."""
    started = time.monotonic()
    out = out.absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} 已存在且不是空目录 / exists and is not an empty directory")
    db = database or Database.from_settings(connections["default"].settings_dict)
    roots = file_roots() if roots is None else roots
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        created_at = timezone.localtime()
        db_file = work / DATABASE_FILES[db.kind]
        inventory, server = _database_copy(db, db_file, while_held, progress)
        db_entry = FileEntry(
            path=db_file.name, size=db_file.stat().st_size, sha256=file_sha256(db_file)
        )
        # Older backups are not copied into a new one, wherever KEFU_BACKUP_DIR lies.
        skip = [work, *_scheduled_dir()]
        entries, vanished = files_copy(roots=roots, dest=work, skip=skip, progress=progress)
        manifest = Manifest(
            kefu_version=kefu_version(),
            kefu_commit=kefu_commit(Path(settings.BASE_DIR).parent),
            created_at=created_at.isoformat(),
            database_kind=db.kind,
            database_server=server,
            migrations=inventory.migrations,
            tables=inventory.tables,
            roots={name: str(path) for name, path in sorted(roots.items())},
            files=[db_entry, *entries],
            field_keys=field_key_fingerprints(getattr(settings, "KEFU_FIELD_KEYS", "")),
            index_key=_index_fingerprint(),
        )
        manifest_write(work, manifest)
        for directory in sorted({p.parent for p in work.rglob("*")}, reverse=True):
            fsync_dir(directory)
        if out.exists():
            out.rmdir()
        os.rename(work, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(
        path=out, manifest=manifest, seconds=time.monotonic() - started, vanished=vanished
    )


def _database_copy(
    db: Database, dest: Path, while_held: Callable[[], None] | None, progress: bool
) -> tuple[Inventory, str]:
    if db.kind == "sqlite":
        assert db.path is not None
        inventory = sqlite_snapshot(
            source=db.path, dest=dest, while_held=while_held, progress=progress
        )
        return inventory, sqlite_version()
    return pg_snapshot(db=db, dest=dest, while_held=while_held, progress=progress)


def _scheduled_dir() -> list[Path]:
    directory = getattr(settings, "KEFU_BACKUP_DIR", "")
    return [Path(directory)] if directory else []


def _index_fingerprint() -> str:
    key = getattr(settings, "KEFU_INDEX_KEY", "")
    return fingerprint(key) if key else ""


def backup_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


__all__ = ["BackupError", "BackupResult", "backup_create", "backup_size"]
