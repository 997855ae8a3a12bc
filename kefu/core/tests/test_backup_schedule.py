"""The scheduled backup: one per KEFU_BACKUP_EVERY through the job registry, the newest
KEFU_BACKUP_KEEP kept, nothing at all when KEFU_BACKUP_DIR is empty."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from kefu.conftest import run_tasks
from kefu.core import jobs, scheduler
from kefu.core.backup.manifest import MANIFEST, manifest_read
from kefu.core.backup.schedule import backup_every_parse, backup_scheduled
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.tests.backup_support import pg_dump_or_skip

SH = timezone.get_default_timezone()


@pytest.mark.parametrize(
    ("text", "every"),
    [
        ("daily", timedelta(days=1)),
        ("Hourly", timedelta(hours=1)),
        ("weekly", timedelta(days=7)),
        ("6h", timedelta(hours=6)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
    ],
)
def test_backup_every_reads_words_and_durations(text: str, every: timedelta) -> None:
    assert backup_every_parse(text) == every


@pytest.mark.parametrize("text", ["", "nightly", "1m", "6 hours", "-1h"])
def test_backup_every_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="KEFU_BACKUP_EVERY"):
        backup_every_parse(text)


@pytest.fixture
def backup_dir(tmp_path: Path, settings: object) -> Path:
    pg_dump_or_skip()
    settings.KEFU_BACKUP_DIR = str(tmp_path / "backups")  # type: ignore[attr-defined]
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    return tmp_path / "backups"


@pytest.mark.django_db
def test_retention_keeps_the_newest_and_leaves_other_backups_alone(
    backup_dir: Path, settings: object
) -> None:
    settings.KEFU_BACKUP_KEEP = 2  # type: ignore[attr-defined]
    (backup_dir / "before-upgrade").mkdir(parents=True)
    (backup_dir / "before-upgrade" / MANIFEST).write_text("{}")
    crashed = backup_dir / ".kefu-20261101-030000.partial-4242-abcd"
    crashed.mkdir()
    old = time.time() - 2 * 86400
    os.utime(crashed, (old, old))
    running = backup_dir / ".kefu-20261204-030000.partial-4343-abcd"
    running.mkdir()

    days = [datetime(2026, 12, d, 3, 0, tzinfo=SH) for d in (1, 2, 3, 4)]
    for day in days:
        backup_scheduled(day)

    assert sorted(p.name for p in backup_dir.iterdir()) == [
        ".kefu-20261204-030000.partial-4343-abcd",  # may still be being made
        "before-upgrade",  # made by hand: not the schedule's to delete
        "kefu-20261203-030000",
        "kefu-20261204-030000",
    ]
    assert manifest_read(backup_dir / "kefu-20261204-030000").database_kind in {
        "sqlite",
        "postgresql",
    }
    audited = AuditEvent.objects.filter(action=AuditAction.EXPORT, field="backup")
    assert audited.count() == 4
    assert audited.first().data["path"] == str(backup_dir / "kefu-20261204-030000")  # type: ignore[union-attr]


@pytest.mark.django_db
def test_two_backups_in_the_same_second_both_stay(backup_dir: Path) -> None:
    at = datetime(2026, 12, 1, 3, 0, tzinfo=SH)
    first, second = backup_scheduled(at), backup_scheduled(at)
    assert first is not None and second is not None
    assert [first.path.name, second.path.name] == ["kefu-20261201-030000", "kefu-20261201-030000-2"]


@pytest.mark.django_db
def test_an_empty_backup_dir_turns_backups_off(tmp_path: Path, settings: object) -> None:
    settings.KEFU_BACKUP_DIR = ""  # type: ignore[attr-defined]
    assert backup_scheduled(datetime(2026, 12, 1, 3, 0, tzinfo=SH)) is None
    assert not AuditEvent.objects.filter(field="backup").exists()


@pytest.fixture
def core_jobs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "_registry", {})


@pytest.mark.django_db
def test_the_scheduler_runs_the_backup_job(
    backup_dir: Path, settings: object, core_jobs_only: None
) -> None:
    settings.KEFU_BACKUP_EVERY = "6h"  # type: ignore[attr-defined]
    apps.get_app_config("core").ready()
    job = jobs.job_get("core.backup")
    assert job is not None and job.every == timedelta(hours=6)

    now = datetime(2026, 12, 1, 3, 0, tzinfo=SH)
    assert "core.backup" in scheduler.tick(now)
    run_tasks("job_run")
    assert [p.name for p in backup_dir.iterdir()] == ["kefu-20261201-030000"]
    assert "core.backup" not in scheduler.tick(now + timedelta(hours=5))
    assert "core.backup" in scheduler.tick(now + timedelta(hours=6))


def test_a_bad_schedule_stops_kefu_at_start_up(settings: object, core_jobs_only: None) -> None:
    settings.KEFU_BACKUP_DIR = "/var/backups/kefu"  # type: ignore[attr-defined]
    settings.KEFU_BACKUP_EVERY = "nightly"  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="KEFU_BACKUP_EVERY: 'nightly'"):
        apps.get_app_config("core").ready()
    settings.KEFU_BACKUP_EVERY = "daily"  # type: ignore[attr-defined]
    settings.KEFU_BACKUP_KEEP = 0  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="KEFU_BACKUP_KEEP"):
        apps.get_app_config("core").ready()
