"""Which pg_dump and pg_restore a PostgreSQL backup uses: the server's major version where
Debian installs them, else the next newer one (an older pg_dump refuses a newer server),
else the PATH's; none at all is an error that says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.core.backup import BackupError, postgres
from kefu.core.backup.database import Database


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for version in ("13", "15", "16"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "pg_dump").write_text("#!/bin/sh\n")
    (tmp_path / "16" / "bin" / "pg_restore").write_text("#!/bin/sh\n")
    monkeypatch.setattr(postgres, "PG_LIB", tmp_path)
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    return tmp_path


@pytest.mark.parametrize(
    ("server", "chosen"),
    [(150020, "15"), (130009, "13"), (140012, "15"), (160004, "16")],
)
def test_the_client_of_the_servers_version_or_the_next_newer(
    installed: Path, server: int, chosen: str
) -> None:
    assert postgres.pg_program("pg_dump", server) == str(installed / chosen / "bin" / "pg_dump")


def test_no_client_new_enough_names_the_package_to_install(installed: Path) -> None:
    with pytest.raises(BackupError, match="apt-get install postgresql-client-17"):
        postgres.pg_program("pg_dump", 170002)
    assert postgres.pg_program("pg_restore", 150020) == str(installed / "16" / "bin" / "pg_restore")


def test_the_password_never_reaches_a_command_line() -> None:
    db = Database.from_settings(
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "kefu",
            "USER": "kefu",
            "PASSWORD": "s3cret-pass",
            "HOST": "db.internal",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "require", "pool": {"max_size": 10}, "prepare_threshold": 5},
        }
    )
    assert db.password == "s3cret-pass"
    conninfo = postgres._conninfo(db)
    assert "s3cret" not in conninfo
    assert set(conninfo.split()) == {
        "dbname=kefu",
        "user=kefu",
        "host=db.internal",
        "port=5433",
        "sslmode=require",
    }
    assert postgres._environment(db)["PGPASSWORD"] == "s3cret-pass"
    assert db.describe() == "PostgreSQL kefu @ db.internal:5433"
