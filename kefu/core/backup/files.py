"""The files kefu keeps beside its database, by root: ``media`` (uploads), ``mail``
(notification mails written as files) and ``outbox`` (the "file" SMTP transport).

Where each root lies comes from the settings, so core names no app: a root that is not
configured, or not there yet, is simply empty. A root inside another (the outbox under the
mail directory, by default) is its own root and left out of the outer one, so it can be
restored to wherever the target's settings put it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from tqdm import tqdm

from kefu.core.backup import BackupError
from kefu.core.backup.manifest import FILES_DIR, FileEntry, file_sha256

_CHUNK = 1024 * 1024


def progress_bar(progress: bool, desc: str, unit: str, total: int | None = None) -> tqdm:
    """A progress bar on stderr when ``progress`` and stderr is a terminal (not in a cron
    job's log)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        disable=None if progress else True,
        leave=False,
    )


def file_roots() -> dict[str, Path]:
    """Root name -> directory, from the settings of this installation."""
    roots = {"media": Path(settings.MEDIA_ROOT)}
    for name, setting in (("mail", "EMAIL_FILE_PATH"), ("outbox", "KEFU_MAIL_OUTBOX")):
        value = getattr(settings, setting, None)
        if value:
            roots[name] = Path(value)
    return {name: path.absolute() for name, path in roots.items()}


@dataclass(frozen=True)
class _Source:
    root: str
    path: Path
    relative: PurePosixPath
    size: int


def _walk(roots: Mapping[str, Path], skip: Sequence[Path]) -> Iterator[_Source]:
    """Every regular file under each root, in a stable order; symbolic links, other roots
    nested inside, and ``skip`` (the backup being written) are left out."""
    resolved = {name: path.resolve() for name, path in roots.items()}
    for name, root in sorted(resolved.items()):
        if not root.is_dir():
            continue
        fenced = {p for p in resolved.values() if p != root} | {p.resolve() for p in skip}
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if (here / d) not in fenced and not (here / d).is_symlink()
            )
            for filename in sorted(filenames):
                path = here / filename
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue
                if path.is_symlink() or not path.is_file():
                    continue
                relative = PurePosixPath(path.relative_to(root).as_posix())
                yield _Source(name, path, relative, info.st_size)


def files_copy(
    *, roots: Mapping[str, Path], dest: Path, skip: Sequence[Path] = (), progress: bool = False
) -> tuple[list[FileEntry], list[str]]:
    """Copy every file of ``roots`` under ``dest/files/<root>/``; returns the entries (each
    hashed from the bytes written, so a file changing while it is copied still matches its
    checksum) and the files that went away before they could be copied."""
    sources = list(_walk(roots, skip))
    entries: list[FileEntry] = []
    vanished: list[str] = []
    with progress_bar(progress, "文件 / files", "B", sum(s.size for s in sources)) as bar:
        for source in sources:
            name = f"{FILES_DIR}/{source.root}/{source.relative}"
            try:
                size, digest = _copy(source.path, dest / name, bar)
            except FileNotFoundError:
                vanished.append(str(source.path))
                continue
            entries.append(FileEntry(path=name, size=size, sha256=digest))
    return entries, vanished


def _copy(source: Path, target: Path, bar: tqdm | None = None) -> tuple[int, str]:
    """Copy one file to a new private file; returns its size and SHA-256."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as src:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            dst.flush()
            os.fsync(dst.fileno())
    return size, digest.hexdigest()


def restore_target(entry: FileEntry, roots: Mapping[str, Path]) -> Path | None:
    """Where a backed-up file goes in this installation (None: its root is not
    configured here)."""
    _files, root, *rest = PurePosixPath(entry.path).parts
    base = roots.get(root)
    return None if base is None else base.joinpath(*rest)


def files_conflicting(entries: Sequence[FileEntry], roots: Mapping[str, Path]) -> list[str]:
    """Files of the backup whose place is taken by a different file (the same file there
    already is no conflict)."""
    taken = []
    for entry in entries:
        target = restore_target(entry, roots)
        if target is None or not (target.exists() or target.is_symlink()):
            continue
        if (
            target.is_symlink()
            or not target.is_file()
            or target.stat().st_size != entry.size
            or file_sha256(target) != entry.sha256
        ):
            taken.append(str(target))
    return taken


def files_restore(
    *,
    backup: Path,
    entries: Sequence[FileEntry],
    roots: Mapping[str, Path],
    progress: bool = False,
) -> dict[str, int]:
    """Copy the backup's files into the roots (each written aside and renamed into place);
    returns how many files went into each root. A file already there with the same
    content is kept."""
    counts: dict[str, int] = {}
    with progress_bar(progress, "文件 / files", "B", sum(e.size for e in entries)) as bar:
        for entry in entries:
            target = restore_target(entry, roots)
            root = PurePosixPath(entry.path).parts[1]
            if target is None:
                continue
            if not target.exists():
                draft = target.with_name(f".{target.name}.restore-{os.getpid()}")
                try:
                    _size, digest = _copy(backup / entry.path, draft, bar)
                    if digest != entry.sha256:
                        raise BackupError(
                            f"{entry.path}: 复制时内容改变 / changed while being restored"
                        )
                    os.replace(draft, target)
                finally:
                    draft.unlink(missing_ok=True)
            else:
                bar.update(entry.size)
            counts[root] = counts.get(root, 0) + 1
    return counts


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
