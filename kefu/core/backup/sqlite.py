"""The embedded database: SQLite's online backup API while kefu runs, and a copy put back
into place while it is stopped.

The copy is taken inside one read transaction on the source, held from the row counts to
the last page: in WAL mode kefu's writers keep committing (to the WAL) all along, the copy
and the counts see the database as it was when the transaction began, and the backup never
starts over (SQLite restarts a stepwise backup whose source another connection changed,
unless the backing-up connection holds its snapshot, as here)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from kefu.core.backup import BackupError
from kefu.core.backup.database import Inventory, inventory_read
from kefu.core.backup.files import fsync_dir, progress_bar

PAGES_PER_STEP = 1024
_TIMEOUT_S = 30.0


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\'"
    ).fetchall()
    return [name for (name,) in rows]


def sqlite_snapshot(
    *,
    source: Path,
    dest: Path,
    while_held: Callable[[], None] | None = None,
    progress: bool = False,
) -> Inventory:
    """Copy the database at ``source`` to ``dest`` (a new file) and return its row counts
    and migrations, all from one snapshot. ``while_held`` is called once the snapshot is
    taken, before the pages are copied: what commits from then on is not in the copy.
    The copy is left in rollback-journal mode, one self-contained file (kefu turns WAL back
    on when it opens it)."""
    if not source.is_file():
        raise BackupError(f"数据库文件不存在 / no database file at {source}")
    with closing(sqlite3.connect(source, timeout=_TIMEOUT_S, isolation_level=None)) as src:
        src.execute("BEGIN")
        try:
            inventory = inventory_read(src.cursor(), sqlite_tables(src))
            if while_held is not None:
                while_held()
            with closing(sqlite3.connect(dest)) as dst:
                with progress_bar(progress, "数据库 / database", "page") as bar:

                    def step(status: int, remaining: int, total: int) -> None:
                        bar.total = total
                        bar.n = total - remaining
                        bar.refresh()

                    src.backup(dst, pages=PAGES_PER_STEP, progress=step)
                dst.execute("PRAGMA journal_mode=DELETE")
                (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            src.execute("ROLLBACK")
    if verdict != "ok":
        raise BackupError(f"备份副本校验失败 / the copy failed SQLite's check: {verdict}")
    dest.chmod(0o600)
    return inventory


def sqlite_version() -> str:
    return f"SQLite {sqlite3.sqlite_version}"


def sqlite_existing_tables(path: Path) -> list[str]:
    """The tables of the database at ``path``; [] when there is no file (nothing is
    created)."""
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=_TIMEOUT_S)) as conn:
        return sqlite_tables(conn)


def sqlite_inventory(path: Path) -> Inventory:
    with closing(sqlite3.connect(path, timeout=_TIMEOUT_S)) as conn:
        return inventory_read(conn.cursor(), sqlite_tables(conn))


def sqlite_install(*, copy: Path, target: Path) -> None:
    """Put the backup's database file in place at ``target`` (checked empty before, kefu
    stopped). Written beside it and renamed, so the target is never half a database; the
    old WAL and shared-memory files go first, since SQLite would replay a WAL left beside
    the new file."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.restore-{os.getpid()}")
    try:
        with open(copy, "rb") as src, open(draft, "xb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        draft.chmod(0o600)
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(draft, target)
    finally:
        draft.unlink(missing_ok=True)
    fsync_dir(target.parent)

