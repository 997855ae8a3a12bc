"""``manifest.json``: what a backup holds, and the checksums that prove it whole."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from kefu.core.backup import BackupError

MANIFEST = "manifest.json"
FORMAT = "kefu-backup"
FORMAT_VERSION = 1
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
FILES_DIR = "files"
_CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the backup directory, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    kefu_version: str
    kefu_commit: str | None
    created_at: str  # ISO 8601 with its offset (kefu's time zone)
    database_kind: str  # "sqlite" or "postgresql"
    database_server: str  # SQLite library or PostgreSQL server version
    migrations: dict[str, str]  # app label -> last applied migration
    tables: dict[str, int]  # table -> rows
    roots: dict[str, str]  # file root name -> the directory it was copied from
    files: list[FileEntry]
    # Field-key id -> fingerprint, and the index key's fingerprint (never the keys).
    field_keys: dict[str, str] = field(default_factory=dict)
    index_key: str = ""

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.database_kind]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def manifest_write(directory: Path, manifest: Manifest) -> None:
    path = directory / MANIFEST
    with open(path, "w", encoding="utf-8") as out:
        out.write(manifest.to_json())
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o600)


def manifest_read(directory: Path) -> Manifest:
    """The manifest of the backup in ``directory``. BackupError when there is none (a
    directory that is not a backup, or one whose making never finished) or it is not one
    this kefu can read."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupError(f"备份目录不存在 / no backup directory at {directory}")
    if not path.is_file():
        raise BackupError(
            f"{path}: 缺少 manifest.json，不是完整的 kefu 备份 / missing: not a whole kefu backup"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError("not a kefu backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {data.get('format_version')} (this kefu reads 1)")
        manifest = Manifest(
            kefu_version=str(data["kefu_version"]),
            kefu_commit=data.get("kefu_commit"),
            created_at=str(data["created_at"]),
            database_kind=str(data["database_kind"]),
            database_server=str(data.get("database_server", "")),
            migrations={str(k): str(v) for k, v in data["migrations"].items()},
            tables={str(k): int(v) for k, v in data["tables"].items()},
            roots={str(k): str(v) for k, v in data["roots"].items()},
            files=[
                FileEntry(path=str(f["path"]), size=int(f["size"]), sha256=str(f["sha256"]))
                for f in data["files"]
            ],
            field_keys={str(k): str(v) for k, v in data.get("field_keys", {}).items()},
            index_key=str(data.get("index_key", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{path}: 无法读取 / cannot be read: {exc}") from exc
    _check_entries(path, manifest)
    return manifest


def _check_entries(path: Path, manifest: Manifest) -> None:
    """Every entry is a plain relative path inside the backup (a crafted manifest must not
    make a restore read or write elsewhere), and the database file is listed."""
    if manifest.database_kind not in DATABASE_FILES:
        raise BackupError(f"{path}: 未知的数据库类型 / unknown database kind")
    names = set()
    for entry in manifest.files:
        parts = PurePosixPath(entry.path).parts
        inside = entry.path == manifest.database_file or (
            len(parts) >= 3 and parts[0] == FILES_DIR and parts[1] in manifest.roots
        )
        if (
            not inside
            or entry.path.startswith("/")
            or any(p in ("..", ".", "") for p in parts)
            or "\\" in entry.path
            or not _SHA256.match(entry.sha256)
            or entry.size < 0
        ):
            raise BackupError(f"{path}: 不允许的条目 / entry not allowed: {entry.path!r}")
        names.add(entry.path)
    if manifest.database_file not in names:
        raise BackupError(f"{path}: 未列出数据库文件 / lists no {manifest.database_file}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(secret: str) -> str:
    """A short, one-way name of a random key: enough to tell two keys apart, nothing that
    helps to find one."""
    return hashlib.sha256(f"kefu-backup:{secret.strip()}".encode()).hexdigest()[:16]


def field_key_fingerprints(field_keys: str) -> dict[str, str]:
    """``KEFU_FIELD_KEYS`` (``id:base64key,...``) as key id -> fingerprint."""
    out = {}
    for entry in (e.strip() for e in field_keys.split(",")):
        key_id, sep, key = entry.partition(":")
        if sep:
            out[key_id] = fingerprint(key)
    return out


def kefu_version() -> str:
    try:
        return metadata.version("kefu")
    except metadata.PackageNotFoundError:
        return "unknown"


def kefu_commit(project_dir: Path) -> str | None:
    """The git commit kefu runs from, with ``-dirty`` when its tracked files differ; None
    outside a git checkout (an installed package) or without git."""
    if not (project_dir / ".git").exists():
        return None
    try:
        head = _git(project_dir, "rev-parse", "HEAD")
        dirty = _git(project_dir, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (fixed git arguments)
        ["git", *args],  # noqa: S607 (git from PATH: it only names the commit)
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()



def size_text(n: int) -> str:
    """``n`` bytes for people: 512 B, 3.4 MB."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
