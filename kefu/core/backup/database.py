"""The database a backup is taken from or restored into, and what it holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from kefu.core.backup import BackupError

Kind = Literal["sqlite", "postgresql"]

# Keys of a Django PostgreSQL OPTIONS that are Django's or psycopg's, not libpq's.
_NOT_LIBPQ = {
    "pool",
    "server_side_binding",
    "prepare_threshold",
    "isolation_level",
    "assume_role",
    "cursor_factory",
    "context",
}


@dataclass(frozen=True)
class Database:
    """SQLite: ``path``. PostgreSQL: libpq parameters (``dbname``, ``host``…) without the
    password, which travels apart (``PGPASSWORD``), never on a command line."""

    kind: Kind
    path: Path | None = None
    params: Mapping[str, str] | None = None
    password: str = ""

    @classmethod
    def from_settings(cls, settings_dict: Mapping[str, Any]) -> Database:
        """From a ``DATABASES`` entry (or ``connections[alias].settings_dict``)."""
        engine = str(settings_dict["ENGINE"])
        if engine == "kefu.core.sqlite" or engine.endswith("sqlite3"):
            name = str(settings_dict["NAME"])
            if name == ":memory:" or name.startswith("file:"):
                raise BackupError(f"内存数据库无法备份 / an in-memory database ({name})")
            return cls(kind="sqlite", path=Path(name).absolute())
        if "postgresql" in engine:
            params = {"dbname": str(settings_dict["NAME"])}
            for key, setting in (("user", "USER"), ("host", "HOST"), ("port", "PORT")):
                if settings_dict.get(setting):
                    params[key] = str(settings_dict[setting])
            for key, value in (settings_dict.get("OPTIONS") or {}).items():
                if key not in _NOT_LIBPQ and isinstance(value, str | int):
                    params[key] = str(value)
            return cls(
                kind="postgresql", params=params, password=str(settings_dict.get("PASSWORD") or "")
            )
        raise BackupError(f"kefu 只能备份 SQLite 和 PostgreSQL / kefu backs up SQLite and "
                          f"PostgreSQL, not {engine}")

    def describe(self) -> str:
        """Where it is, for messages (no password)."""
        if self.kind == "sqlite":
            return f"SQLite {self.path}"
        params = self.params or {}
        where = f"{params.get('host', 'localhost')}:{params.get('port', '5432')}"
        return f"PostgreSQL {params.get('dbname', '')} @ {where}"


@dataclass(frozen=True)
class Inventory:
    tables: dict[str, int]  # table -> rows
    migrations: dict[str, str]  # app -> last applied migration


class Cursor(Protocol):
    def execute(self, sql: str, /) -> Any: ...
    def fetchall(self) -> Sequence[Any]: ...
    def fetchone(self) -> Any: ...


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def inventory_read(cursor: Cursor, tables: Sequence[str]) -> Inventory:
    """Row counts of ``tables`` and the last applied migration of each app, read through
    ``cursor`` (inside the snapshot being backed up, or from a restored database)."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (a table name the database listed)
        counts[table] = int(cursor.fetchone()[0])
    migrations: dict[str, str] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        for app, name in cursor.fetchall():
            migrations[app] = name
    return Inventory(tables=counts, migrations=dict(sorted(migrations.items())))


def inventory_compare(expected: Mapping[str, int], found: Mapping[str, int]) -> list[str]:
    """What differs between two sets of row counts, one line per table."""
    lines = []
    for table in sorted(set(expected) | set(found)):
        want, have = expected.get(table), found.get(table)
        if want != have:
            lines.append(
                f"{table}: 备份 / manifest {'—' if want is None else want}, "
                f"恢复后 / restored {'—' if have is None else have}"
            )
    return lines
