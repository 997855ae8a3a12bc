"""A fresh, migrated kefu for a benchmark in this process: on PostgreSQL a database dropped
and created again under the given name, else an embedded SQLite database; uploads in a
temporary var directory either way."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_kefu(db: str, name: str) -> None:
    """``db`` is ``sqlite`` or ``postgres``; ``name`` names the PostgreSQL database and
    the temporary directory."""
    if db == "postgres":
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
                check=True,
            )
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["KEFU_VAR_DIR"] = tempfile.mkdtemp(prefix=f"{name.replace('_', '-')}-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
