"""Checking and restoring a backup: :func:`backup_verify`, :func:`backup_restore`.

A restore goes onto an empty database only, and checks everything it can before it writes
anything: every file against its checksum, the database kind, the migrations against this
kefu's code, that the target database has no tables and that no different file already
sits where a backed-up one goes. Then the database, then the files, then the row counts
against the manifest."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from kefu.core.backup import BackupError
from kefu.core.backup.database import Database, Inventory, inventory_compare
from kefu.core.backup.files import (
    file_roots,
    files_conflicting,
    files_restore,
    progress_bar,
)
from kefu.core.backup.manifest import (
    FILES_DIR,
    Manifest,
    field_key_fingerprints,
    file_sha256,
    fingerprint,
    manifest_read,
)
from kefu.core.backup.postgres import pg_existing_tables, pg_install, pg_inventory
from kefu.core.backup.sqlite import sqlite_existing_tables, sqlite_install, sqlite_inventory

_MAX_NAMED = 10
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def backup_verify(*, path: Path, progress: bool = False) -> Manifest:
    """The backup's manifest, once every file it lists is there with its size and SHA-256.
    BackupError naming the files missing or changed."""
    manifest = manifest_read(path)
    bad: list[str] = []
    with progress_bar(progress, "校验 / checking", "B", manifest.size) as bar:
        for entry in manifest.files:
            file = path / entry.path
            if file.is_symlink() or not file.is_file():
                bad.append(f"{entry.path} (缺失 / missing)")
            elif file.stat().st_size != entry.size:
                bad.append(f"{entry.path} (大小不符 / size differs)")
            elif file_sha256(file) != entry.sha256:
                bad.append(f"{entry.path} (校验和不符 / checksum differs)")
            bar.update(entry.size)
    if bad:
        more = f" … +{len(bad) - _MAX_NAMED}" if len(bad) > _MAX_NAMED else ""
        named = "; ".join(bad[:_MAX_NAMED]) + more
        raise BackupError(
            f"备份不完整或已被改动，拒绝恢复 / the backup is incomplete or was altered, "
            f"nothing restored: {named}"
        )
    return manifest


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    database: Database
    inventory: Inventory
    files: dict[str, int]  # root -> files restored
    seconds: float
    warnings: list[str]
    needs_migrate: bool  # this kefu has migrations the backup's database has not had yet


def backup_restore(
    *,
    path: Path,
    database: Database | None = None,
    roots: Mapping[str, Path] | None = None,
    progress: bool = False,
    say: Callable[[str], None] = lambda line: None,
) -> RestoreResult:
    """Restore the backup at ``path`` onto ``database`` (default: kefu's own), which must be
    empty, and its files into ``roots`` (default: this installation's). ``say`` receives
    one line per step. BackupError before anything is written when the backup or the target
    is not fit (the cheap checks first, then every checksum); after a restore whose row
    counts differ from the manifest.

    The embedded database is copied into place: kefu must be stopped meanwhile."""
    started = time.monotonic()
    path = path.absolute()
    manifest = manifest_read(path)
    db = database or Database.from_settings(connections["default"].settings_dict)
    roots = file_roots() if roots is None else roots
    _check_kind(manifest, db)
    needs_migrate = _check_migrations(manifest)
    _check_empty(db)
    say(f"校验备份 / checking the backup: {path}")
    backup_verify(path=path, progress=progress)
    file_entries = [f for f in manifest.files if f.path.startswith(f"{FILES_DIR}/")]
    taken = files_conflicting(file_entries, roots)
    if taken:
        raise BackupError(
            f"目标位置已有不同的文件，拒绝恢复 / a different file is already where a backed-up "
            f"one goes, nothing restored: {'; '.join(taken[:_MAX_NAMED])}"
        )
    warnings = _key_warnings(manifest) + [
        f"此处未配置文件目录 {root}，其文件未恢复 / no {root} directory configured here: "
        f"its files are not restored"
        for root in sorted({f.path.split("/")[1] for f in file_entries} - set(roots))
    ]

    say(f"恢复数据库 / restoring the database into {db.describe()}")
    dump = path / manifest.database_file
    if db.kind == "sqlite":
        assert db.path is not None
        sqlite_install(copy=dump, target=db.path)
    else:
        pg_install(dump=dump, db=db)
    say(f"恢复文件 / restoring the files: {len(file_entries)}")
    files = files_restore(backup=path, entries=file_entries, roots=roots, progress=progress)
    inventory = sqlite_inventory(db.path) if db.path is not None else pg_inventory(db)
    differs = inventory_compare(manifest.tables, inventory.tables)
    if differs:
        raise BackupError(
            "恢复后的行数与备份清单不符 / row counts after the restore differ from the "
            "manifest: " + "; ".join(differs[:_MAX_NAMED])
        )
    return RestoreResult(
        manifest=manifest,
        database=db,
        inventory=inventory,
        files=files,
        seconds=time.monotonic() - started,
        warnings=warnings,
        needs_migrate=needs_migrate,
    )


def _check_kind(manifest: Manifest, db: Database) -> None:
    if manifest.database_kind != db.kind:
        made, here = KIND_NAMES[manifest.database_kind], KIND_NAMES[db.kind]
        raise BackupError(
            f"这是 {made} 的备份，而此处的数据库是 {here}，不能恢复 / this is a backup of a "
            f"{made} database and the database here is {here}: it cannot be restored here "
            f"(restore it onto a {made} installation)"
        )


def _check_migrations(manifest: Manifest) -> bool:
    """BackupError when the backup's database has migrations this kefu does not know (it
    was made by a newer kefu); True when this kefu has some the backup has not had."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    newer = [
        f"{app}.{name}"
        for app, name in sorted(manifest.migrations.items())
        if app in loader.migrated_apps and (app, name) not in known
    ]
    if newer:
        raise BackupError(
            f"备份来自更新版本的 kefu（{manifest.kefu_version}），此处没有这些迁移 / the backup "
            f"was made by a newer kefu ({manifest.kefu_version}) whose migrations this one "
            f"does not have: {', '.join(newer[:_MAX_NAMED])}. Install that version first."
        )
    leaves = dict(loader.graph.leaf_nodes())
    return any(manifest.migrations.get(app) != name for app, name in leaves.items())


def _check_empty(db: Database) -> None:
    tables = (
        sqlite_existing_tables(db.path) if db.path is not None else pg_existing_tables(db)
    )
    if tables:
        kefu = "django_migrations" in tables or "public.django_migrations" in tables
        how = (
            "move the database file away, or point KEFU_VAR_DIR at a new directory"
            if db.kind == "sqlite"
            else "createdb a new database and point DATABASE_URL at it"
        )
        raise BackupError(
            f"目标数据库不是空的，拒绝恢复 / the target database is not empty "
            f"({db.describe()}: {len(tables)} tables{', kefu data' if kefu else ''}): a "
            f"backup is restored onto an empty database only, and nothing was restored. "
            f"To restore, {how}."
        )


def _key_warnings(manifest: Manifest) -> list[str]:
    """What will not read with the keys configured here (the restore goes on: the keys can
    be set afterwards)."""
    warnings = []
    here = field_key_fingerprints(getattr(settings, "KEFU_FIELD_KEYS", ""))
    for key_id, print_ in sorted(manifest.field_keys.items()):
        if here.get(key_id) != print_:
            state = "未配置 / is not configured" if key_id not in here else "不同 / differs"
            warnings.append(
                f"字段密钥 {key_id} {state} here: customers' names, phones and emails "
                f"encrypted under it will not read until KEFU_FIELD_KEYS holds the key the "
                f"backup was made with"
            )
    index_here = getattr(settings, "KEFU_INDEX_KEY", "")
    if manifest.index_key and (not index_here or fingerprint(index_here) != manifest.index_key):
        warnings.append(
            "索引密钥不同 / KEFU_INDEX_KEY differs from the backup's: lookups by phone or "
            "email miss until it is set back (or `kefu encryption reindex` is run)"
        )
    return warnings
