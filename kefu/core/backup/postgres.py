"""PostgreSQL: ``pg_dump --format=custom`` from one exported snapshot while kefu runs, and
``pg_restore`` into an empty database.

The row counts are read in the transaction that exports the snapshot and ``pg_dump`` runs
with ``--snapshot``, so counts and dump agree to the row however many writes commit
meanwhile. The client programs are those of the server's major version where Debian's
packages put them (``/usr/lib/postgresql/<major>/bin``), else a newer one, else the
``pg_dump`` on the PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from kefu.core.backup import BackupError
from kefu.core.backup.database import Database, Inventory, inventory_read
from kefu.core.backup.files import progress_bar

PG_LIB = Path("/usr/lib/postgresql")
_POLL_S = 0.25


def pg_connect(db: Database) -> psycopg.Connection:
    try:
        return psycopg.connect(_conninfo(db), password=db.password or None, autocommit=True)
    except psycopg.Error as exc:
        raise BackupError(f"无法连接 / cannot connect to {db.describe()}: {exc}") from exc


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).fetchall()
    return [name for (name,) in rows]


def pg_server_version(conn: psycopg.Connection) -> int:
    """``server_version_num``: 150020 for 15.20."""
    return int(conn.info.server_version)


def pg_program(name: str, server_version: int) -> str:
    """The path of ``pg_dump`` or ``pg_restore`` for a server of ``server_version``."""
    major = server_version // 10000
    installed = sorted(
        int(d.name) for d in PG_LIB.glob("*") if d.name.isdigit() and (d / "bin" / name).is_file()
    ) if PG_LIB.is_dir() else []
    for version in installed:
        if version >= major:
            return str(PG_LIB / str(version) / "bin" / name)
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(
            f"找不到 {name} / {name} not found: install the PostgreSQL {major} client "
            f"(Debian: apt-get install postgresql-client-{major})"
        )
    return on_path


def _environment(db: Database) -> dict[str, str]:
    env = dict(os.environ)
    if db.password:
        env["PGPASSWORD"] = db.password
    return env


def _conninfo(db: Database) -> str:
    return make_conninfo("", **(db.params or {}))


def pg_snapshot(
    *,
    db: Database,
    dest: Path,
    while_held: Callable[[], None] | None = None,
    progress: bool = False,
) -> tuple[Inventory, str]:
    """Dump the database to ``dest``; returns its row counts and migrations (from the
    dump's own snapshot) and the server version. ``while_held`` as for SQLite."""
    with pg_connect(db) as conn:
        server = pg_server_version(conn)
        program = pg_program("pg_dump", server)
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()  # type: ignore[misc]
            inventory = inventory_read(conn.cursor(), _tables(conn))
            if while_held is not None:
                while_held()
            _run_with_progress(
                [
                    program,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-password",
                    f"--file={dest}",
                    f"--dbname={_conninfo(db)}",
                ],
                env=_environment(db),
                dest=dest,
                progress=progress,
            )
    dest.chmod(0o600)
    return inventory, f"PostgreSQL {_version_text(server)}"


def _version_text(server_version: int) -> str:
    return f"{server_version // 10000}.{server_version % 10000}"


def _run_with_progress(
    command: list[str], *, env: dict[str, str], dest: Path, progress: bool
) -> None:
    """Run pg_dump, showing the dump's size as it grows."""
    with (
        tempfile.TemporaryFile("w+") as errors,
        progress_bar(progress, "数据库 / database", "B") as bar,
        subprocess.Popen(command, env=env, stderr=errors) as process,  # noqa: S603 (pg_dump, fixed arguments)
    ):
        while process.poll() is None:
            time.sleep(_POLL_S)
            if dest.exists():
                bar.n = dest.stat().st_size
                bar.refresh()
        errors.seek(0)
        error = errors.read()
    if process.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} 失败 / failed: {_last_lines(error)}")


def _last_lines(text: str, n: int = 5) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) or "no message"


def pg_existing_tables(db: Database) -> list[str]:
    with pg_connect(db) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return [name for (name,) in rows]


def pg_install(*, dump: Path, db: Database) -> None:
    """``pg_restore`` the dump into ``db`` (checked empty) in one transaction: it fails
    whole or not at all. Objects belong to the user restoring (``--no-owner``) and carry no
    grants from the source (``--no-privileges``): the target may have other roles."""
    with pg_connect(db) as conn:
        program = pg_program("pg_restore", pg_server_version(conn))
    done = subprocess.run(  # noqa: S603 (pg_restore, fixed arguments)
        [
            program,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={_conninfo(db)}",
            str(dump),
        ],
        env=_environment(db),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败 / failed: {_last_lines(done.stderr)}")


def pg_inventory(db: Database) -> Inventory:
    with pg_connect(db) as conn:
        return inventory_read(conn.cursor(), _tables(conn))

