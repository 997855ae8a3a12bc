"""A restore that cannot be whole is refused before it writes anything, with a message
that names what is wrong: a file altered or missing, a database that is not empty, a
backup of the other database kind or of a newer kefu, a file already in the way."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kefu.core.backup import BackupError
from kefu.core.backup.create import BackupResult, backup_create
from kefu.core.backup.database import Database
from kefu.core.backup.manifest import MANIFEST
from kefu.core.backup.restore import backup_restore
from kefu.core.tests.backup_support import fresh_database, pg_dump_or_skip, table_count

pytestmark = pytest.mark.django_db

QUOTE = "files/media/attachments/1/7/报价单.pdf"


@pytest.fixture
def made(tmp_path: Path) -> BackupResult:
    """A backup of the test database (as committed) with one attachment and one mail."""
    pg_dump_or_skip()
    media, outbox = tmp_path / "media", tmp_path / "outbox"
    (media / "attachments" / "1" / "7").mkdir(parents=True)
    (media / "attachments" / "1" / "7" / "报价单.pdf").write_bytes(b"%PDF-1.4 quote 100 yuan")
    outbox.mkdir()
    (outbox / "reply@kefu.eml").write_bytes(b"Subject: Re\r\n\r\nhello")
    return backup_create(out=tmp_path / "backup", roots={"media": media, "outbox": outbox})


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Database]:
    with fresh_database(tmp_path) as db:
        yield db


def _roots(tmp_path: Path) -> dict[str, Path]:
    return {"media": tmp_path / "new-media", "outbox": tmp_path / "new-outbox"}


def _refused(made: BackupResult, target: Database, tmp_path: Path) -> str:
    with pytest.raises(BackupError) as refused:
        backup_restore(path=made.path, database=target, roots=_roots(tmp_path))
    assert table_count(target) == 0, "nothing may be restored"
    assert not (tmp_path / "new-media").exists()
    return str(refused.value)


def test_an_altered_attachment_is_named_and_nothing_restored(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    (made.path / QUOTE).write_bytes(b"%PDF-1.4 quote 900 yuan")  # same size, other amount
    message = _refused(made, target, tmp_path)
    assert QUOTE in message and "checksum differs" in message


def test_a_missing_file_or_an_altered_database_is_refused(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    (made.path / "files" / "outbox" / "reply@kefu.eml").unlink()
    database = made.path / made.manifest.database_file
    with open(database, "r+b") as file:
        file.seek(database.stat().st_size // 2)
        file.write(b"\x00altered")
    message = _refused(made, target, tmp_path)
    assert "files/outbox/reply@kefu.eml (缺失 / missing)" in message
    assert f"{made.manifest.database_file} (校验和不符 / checksum differs)" in message


def test_a_backup_without_its_manifest_is_not_a_backup(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    (made.path / MANIFEST).unlink()
    assert "not a whole kefu backup" in _refused(made, target, tmp_path)


def test_a_manifest_cannot_send_files_outside_their_directory(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    manifest = json.loads((made.path / MANIFEST).read_text())
    manifest["files"][-1]["path"] = "files/media/../../../.ssh/authorized_keys"
    (made.path / MANIFEST).write_text(json.dumps(manifest))
    assert "entry not allowed" in _refused(made, target, tmp_path)


def test_restore_onto_a_database_with_kefu_data_is_refused(
    made: BackupResult, tmp_path: Path
) -> None:
    own = Database.from_settings(connection.settings_dict)
    with pytest.raises(BackupError, match=r"the target database is not empty .*kefu data"):
        backup_restore(path=made.path, database=own, roots=_roots(tmp_path))
    # Through the command too: the test database is the one kefu runs on.
    with pytest.raises(CommandError, match="restored onto an empty database only"):
        call_command("restore", str(made.path), verbosity=0)


def test_a_backup_of_the_other_database_kind_is_refused(
    made: BackupResult, tmp_path: Path
) -> None:
    if made.manifest.database_kind == "sqlite":
        other = Database(kind="postgresql", params={"dbname": "kefu_backup_nowhere"})
        expected = "backup of a SQLite database and the database here is PostgreSQL"
    else:
        other = Database(kind="sqlite", path=tmp_path / "other.sqlite3")
        expected = "backup of a PostgreSQL database and the database here is SQLite"
    with pytest.raises(BackupError, match=expected):
        backup_restore(path=made.path, database=other, roots=_roots(tmp_path))
    assert not (tmp_path / "other.sqlite3").exists()


def test_a_backup_of_a_newer_kefu_is_refused(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    manifest = json.loads((made.path / MANIFEST).read_text())
    manifest["migrations"]["tickets"] = "0999_from_the_future"
    manifest["kefu_version"] = "9.0.0"
    (made.path / MANIFEST).write_text(json.dumps(manifest))
    message = _refused(made, target, tmp_path)
    assert "made by a newer kefu (9.0.0)" in message and "tickets.0999_from_the_future" in message


def test_a_different_file_in_the_way_is_refused_the_same_one_is_kept(
    made: BackupResult, target: Database, tmp_path: Path
) -> None:
    roots = _roots(tmp_path)
    in_the_way = roots["media"] / "attachments" / "1" / "7" / "报价单.pdf"
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_bytes(b"%PDF-1.4 another quote")
    with pytest.raises(BackupError, match="a different file is already where") as refused:
        backup_restore(path=made.path, database=target, roots=roots)
    assert str(in_the_way) in str(refused.value) and table_count(target) == 0

    shutil.copyfile(made.path / QUOTE, in_the_way)
    result = backup_restore(path=made.path, database=target, roots=roots)
    assert result.files == {"media": 1, "outbox": 1}
    assert (roots["outbox"] / "reply@kefu.eml").read_bytes() == b"Subject: Re\r\n\r\nhello"


def test_keys_that_do_not_read_the_backup_are_named(
    made: BackupResult, target: Database, tmp_path: Path, settings: object
) -> None:
    settings.KEFU_FIELD_KEYS = "k9:" + "A" * 43 + "="  # type: ignore[attr-defined]
    settings.KEFU_INDEX_KEY = "B" * 43 + "="  # type: ignore[attr-defined]
    result = backup_restore(path=made.path, database=target, roots=_roots(tmp_path))
    assert result.inventory.tables == made.manifest.tables
    (key_id,) = made.manifest.field_keys
    assert any(f"字段密钥 {key_id} 未配置 / is not configured" in w for w in result.warnings)
    assert any("KEFU_INDEX_KEY differs" in w for w in result.warnings)


def test_a_backup_never_overwrites_a_directory_with_something_in_it(
    made: BackupResult, tmp_path: Path
) -> None:
    with pytest.raises(BackupError, match="exists and is not an empty directory"):
        backup_create(out=made.path, roots={})
    assert (made.path / MANIFEST).is_file()
