"""The scheduled backup: one every ``KEFU_BACKUP_EVERY`` into ``KEFU_BACKUP_DIR``, the
newest ``KEFU_BACKUP_KEEP`` kept (settings; README "Backups"). An empty
``KEFU_BACKUP_DIR`` turns it off."""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kefu.core.audit import audit_record
from kefu.core.backup.create import BackupResult, backup_create
from kefu.core.backup.manifest import MANIFEST
from kefu.core.models import AuditAction

# A scheduled backup's directory name: kefu-20261201-030000 (kefu's time zone).
SCHEDULED = re.compile(r"^kefu-\d{8}-\d{6}(-\d+)?$")
PARTIAL = re.compile(r"^\.kefu-\d{8}-\d{6}(-\d+)?\.partial-")
# A half-made backup older than this was left by a crash, not by one still running.
STALE_PARTIAL = timedelta(days=1)
LEASE = timedelta(hours=6)

_EVERY_WORDS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}
_EVERY = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def backup_every_parse(text: str) -> timedelta:
    """``hourly``, ``daily``, ``weekly`` or a count with a unit: ``30m``, ``6h``, ``2d``.
    ValueError for anything else (or under 5 minutes)."""
    value = text.strip().lower()
    if value in _EVERY_WORDS:
        return _EVERY_WORDS[value]
    match = _EVERY.match(value)
    if match is None:
        raise ValueError(f"KEFU_BACKUP_EVERY: {text!r} is not hourly, daily, weekly or like 6h")
    every = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if every < timedelta(minutes=5):
        raise ValueError(f"KEFU_BACKUP_EVERY: {text!r} is under 5 minutes")
    return every


def backup_scheduled(now: datetime | None = None) -> BackupResult | None:
    """The job: make a backup named after ``now`` (default: the current time) in
    ``KEFU_BACKUP_DIR`` and delete the oldest scheduled ones beyond ``KEFU_BACKUP_KEEP``.
    None when backups are off (``KEFU_BACKUP_DIR`` empty)."""
    directory = str(getattr(settings, "KEFU_BACKUP_DIR", "") or "")
    if not directory:
        return None
    at = timezone.localtime(now or timezone.now())
    base = Path(directory)
    name = f"kefu-{at:%Y%m%d-%H%M%S}"
    n = 1
    while (base / name).exists():
        n += 1
        name = f"kefu-{at:%Y%m%d-%H%M%S}-{n}"
    result = backup_create(out=base / name)
    backup_audit(result)
    backups_prune(directory=base, keep=int(settings.KEFU_BACKUP_KEEP))
    return result


def backup_audit(result: BackupResult) -> None:
    """A backup copies every client's data: the audit log says when, where and how much."""
    manifest = result.manifest
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        field="backup",
        data={
            "path": str(result.path),
            "database": manifest.database_kind,
            "tables": len(manifest.tables),
            "rows": manifest.rows,
            "files": len(manifest.files) - 1,
            "bytes": manifest.size,
        },
    )


def backups_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete the oldest whole scheduled backups beyond ``keep`` and half-made ones left by
    a crash; returns what went. Other directories (a backup made by hand, under another
    name) are left alone."""
    if keep < 1:
        raise ValueError("KEFU_BACKUP_KEEP must be at least 1")
    if not directory.is_dir():
        return []
    whole = sorted(
        p for p in directory.iterdir()
        if p.is_dir() and SCHEDULED.match(p.name) and (p / MANIFEST).is_file()
    )
    stale_before = time.time() - STALE_PARTIAL.total_seconds()
    partial = [
        p for p in directory.iterdir()
        if p.is_dir() and PARTIAL.match(p.name) and p.stat().st_mtime < stale_before
    ]
    gone = whole[: max(len(whole) - keep, 0)] + partial
    for path in gone:
        shutil.rmtree(path)
    return gone
