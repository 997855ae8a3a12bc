"""Checking uploads before they become attachments: the size limit from settings and the
type sniffed from the file's first bytes (:mod:`kefu.tickets.uploads`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kefu.tickets import uploads
from kefu.tickets.models import Attachment


@dataclass(frozen=True)
class CheckedUpload:
    file: File
    filename: str
    content_type: str
    size: int


def _problem_text(problem: uploads.Problem, name: str, limit: int) -> str:
    texts = {
        uploads.Problem.EMPTY: _("附件是空文件：%(name)s"),
        uploads.Problem.TOO_LARGE: _("附件过大：%(name)s（每个文件不超过 %(limit)s）"),
        uploads.Problem.EXECUTABLE: _("不允许上传程序或脚本文件：%(name)s"),
        uploads.Problem.MARKUP: _("不允许上传网页、SVG 或 XML 文件（可能含脚本）：%(name)s"),
        uploads.Problem.UNSUPPORTED: _(
            "不支持的附件类型：%(name)s。可上传图片、PDF、Office 文档、文本、录音、视频和压缩包。"
        ),
    }
    return texts[problem] % {"name": name, "limit": filesizeformat(limit)}


def _head(f: File) -> bytes:
    f.seek(0)
    head = f.read(uploads.HEAD_BYTES)
    f.seek(0)
    return bytes(head)


def attachments_check(files: Sequence[File]) -> list[CheckedUpload]:
    """Each file with its safe name (no path) and the content type found by sniffing, or a
    ValidationError on ``attachments`` naming the first refused file and why (too large,
    empty, a program or script, HTML/SVG/XML, a type not allowed). The browser's claimed
    content type is ignored."""
    if len(files) > settings.KEFU_MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("一次最多上传 %(n)s 个附件") % {"n": settings.KEFU_MAX_ATTACHMENTS}}
        )
    limit = settings.KEFU_MAX_ATTACHMENT_BYTES
    checked = []
    for f in files:
        name = PurePath((f.name or "").replace("\\", "/")).name[:255] or "attachment"
        size = f.size or 0
        verdict = uploads.check_upload(head=_head(f), filename=name, size=size, max_bytes=limit)
        if verdict.problem is not None:
            raise ValidationError({"attachments": _problem_text(verdict.problem, name, limit)})
        checked.append(CheckedUpload(f, name, verdict.content_type, size))
    return checked


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve a stored attachment as a download, never rendered by the browser: a type kefu
    did not sniff itself (files stored before the check existed) goes out as octet-stream,
    and the response forbids sniffing and running anything."""
    content_type = attachment.content_type
    if content_type not in uploads.SERVED_TYPES:
        content_type = "application/octet-stream"
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("attachment file missing") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
