"""What an uploaded file is, decided from its first bytes, never from the name or the
content type the browser claims. Imports no Django.

The type comes from puremagic's signature database; kefu keeps only an allow-list of the
types a service desk needs (pictures, PDF, Office documents, plain text, recordings, video,
archives) and refuses programs and anything a browser would run (HTML, SVG, XML, script),
whatever the file is called. An accepted file is stored with the content type found here,
so it is later served as what it is."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

import puremagic

HEAD_BYTES = 8192

# Sniffed extension (puremagic's identification) -> the content type kefu stores and serves.
ALLOWED: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".jfif": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heif": "image/heif",
    ".heic": "image/heic",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".zip": "application/zip",
    ".rar": "application/vnd.rar",
    ".7z": "application/x-7z-compressed",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".amr": "audio/amr",
    ".m4a": "audio/mp4",
    ".f4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".eml": "message/rfc822",
}

# Refused outright, as a sniffed type or as the file's own name: programs, installers,
# scripts, and documents a browser renders with script (HTML, SVG, XML).
EXECUTABLE_EXTENSIONS = frozenset(
    {
        ".exe", ".dll", ".msi", ".com", ".scr", ".cpl", ".sys", ".bat", ".cmd", ".ps1",
        ".vbs", ".vbe", ".js", ".jse", ".wsf", ".hta", ".jar", ".class", ".apk", ".sh",
        ".elf", ".so", ".dylib", ".lnk", ".reg", ".swf", ".app", ".deb", ".rpm",
        ".appimage", ".docm", ".xlsm", ".pptm", ".xltm", ".dotm",
    }
)  # fmt: skip
MARKUP_EXTENSIONS = frozenset(
    {".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".mht", ".mhtml"}
)
TEXT_TYPES = {".csv": "text/csv"}
SERVED_TYPES = frozenset({*ALLOWED.values(), *TEXT_TYPES.values(), "text/plain"})
# Signatures with less confidence than this are puremagic's guesses from the name alone.
MIN_CONFIDENCE = 0.2


class Problem(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    EXECUTABLE = "executable"
    MARKUP = "markup"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Verdict:
    """``content_type`` to store when ``problem`` is None."""

    content_type: str = ""
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _refused_kind(extension: str, mime: str, name: str) -> Problem | None:
    extension, mime, name = extension.lower(), mime.lower(), name.lower()
    if extension in MARKUP_EXTENSIONS or any(w in mime for w in ("html", "svg", "xml")):
        return Problem.MARKUP
    if (
        extension in EXECUTABLE_EXTENSIONS
        or any(w in mime for w in ("javascript", "executable", "msdownload", "java"))
        or any(w in name for w in ("executable", "mach-o", "installer", "script"))
    ):
        return Problem.EXECUTABLE
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif b"\x00" in head:
        return False
    else:
        encodings = ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            # Incremental: the head may end in the middle of a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeError:
            continue
        return True
    return False


def _starts_with_markup(head: bytes) -> bool:
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head[:512], final=False)
        except UnicodeError:
            continue
        if text.lstrip().startswith("<"):
            return True
    return False


def check_upload(*, head: bytes, filename: str, size: int, max_bytes: int) -> Verdict:
    """Judge one upload from its first bytes (``HEAD_BYTES`` are enough), its name and its
    size in bytes. Refused: empty, larger than ``max_bytes``, a program or script, markup a
    browser would run, or a type not on the allow-list."""
    if size <= 0 or not head:
        return Verdict(problem=Problem.EMPTY)
    if size > max_bytes:
        return Verdict(problem=Problem.TOO_LARGE)
    own_extension = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    refused = _refused_kind(own_extension, "", "")
    if refused:
        return Verdict(problem=refused)
    try:
        matches = puremagic.magic_string(head, filename)
    except puremagic.PureError:
        matches = []
    matches = [m for m in matches if m.confidence >= MIN_CONFIDENCE]
    for match in matches:
        refused = _refused_kind(match.extension, match.mime_type, match.name)
        if refused:
            return Verdict(problem=refused)
        if match.extension.lower() in ALLOWED:
            return Verdict(content_type=ALLOWED[match.extension.lower()])
    if matches:
        return Verdict(problem=Problem.UNSUPPORTED)
    if not _looks_like_text(head):
        return Verdict(problem=Problem.UNSUPPORTED)
    if _starts_with_markup(head):
        return Verdict(problem=Problem.MARKUP)
    return Verdict(content_type=TEXT_TYPES.get(own_extension, "text/plain"))
