"""What the backup tests share: a fresh, empty database to restore onto (a new SQLite file,
or a PostgreSQL database created for the test and dropped after it), and reading rows the
same way from kefu's own database and from a restored one."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from kefu.core.backup.database import Database
from kefu.core.backup.postgres import pg_existing_tables
from kefu.core.backup.sqlite import sqlite_existing_tables


def pg_dump_or_skip() -> None:
    installed = shutil.which("pg_dump") or any(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    if connection.vendor == "postgresql" and not installed:
        pytest.skip("needs pg_dump and pg_restore (apt-get install postgresql-client)")


def _server_conninfo(dbname: str) -> tuple[str, str]:
    source = Database.from_settings(connection.settings_dict)
    params = {**(source.params or {}), "dbname": dbname}
    return psycopg.conninfo.make_conninfo("", **params), source.password


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[Database]:
    """An empty database of the kind the tests run on."""
    if connection.vendor == "sqlite":
        yield Database(kind="sqlite", path=tmp_path / "restored" / "kefu.sqlite3")
        return
    name = f"kefu_backup_restore_{secrets.token_hex(4)}"
    admin, password = _server_conninfo("postgres")
    with psycopg.connect(admin, password=password or None, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database.from_settings({**connection.settings_dict, "NAME": name})
    finally:
        with psycopg.connect(admin, password=password or None, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def cursor_of(db: Database | None) -> Iterator[Any]:
    """A DB-API cursor on ``db``; None: kefu's own database (the test database)."""
    if db is None:
        with connection.cursor() as cursor:
            yield cursor
    elif db.kind == "sqlite":
        assert db.path is not None
        with closing(sqlite3.connect(db.path)) as conn:
            yield conn.cursor()
    else:
        conninfo, password = _server_conninfo((db.params or {})["dbname"])
        with psycopg.connect(conninfo, password=password or None) as conn:
            yield conn.cursor()


def rows(db: Database | None, table: str, columns: str) -> set[tuple[Any, ...]]:
    with cursor_of(db) as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608 (test tables)
        return {tuple(row) for row in cursor.fetchall()}


def table_count(db: Database) -> int:
    """How many tables ``db`` holds (0: nothing was restored onto it)."""
    if db.kind == "sqlite":
        assert db.path is not None
        return len(sqlite_existing_tables(db.path))
    return len(pg_existing_tables(db))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
