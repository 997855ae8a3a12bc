"""The upload check alone (no Django): type from the first bytes, never from the name."""

from __future__ import annotations

import io
import zipfile

import pytest

from kefu.tickets.uploads import Problem, check_upload

MB = 1024 * 1024


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("照片/1.txt", "x")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
MP3 = b"ID3\x03\x00\x00\x00" + b"\x00" * 60
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
HTML = b"<!DOCTYPE html><html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
XML_SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'

CASES = [
    # (bytes, file name, expected content type, expected problem)
    (PNG, "故障照片.png", "image/png", None),
    (PNG, "photo.pdf", "image/png", None),  # the content decides, not the name
    (JPEG, "IMG_0001.JPG", "image/jpeg", None),
    (PDF, "发票.pdf", "application/pdf", None),
    (OLE, "报价.xls", "application/vnd.ms-excel", None),
    (_zip(), "资料.zip", "application/zip", None),
    (MP3, "录音.mp3", "audio/mpeg", None),
    ("你好，空调不制冷。\n型号 KFR-35".encode(), "说明.txt", "text/plain", None),
    ("姓名,电话\n张三,138\n".encode("gb18030"), "名单.csv", "text/csv", None),
    (EXE, "invoice.pdf", "", Problem.EXECUTABLE),
    (ELF, "update", "", Problem.EXECUTABLE),
    (PNG, "setup.exe", "", Problem.EXECUTABLE),  # a program's name is refused too
    (b"echo hi", "run.bat", "", Problem.EXECUTABLE),
    (_zip(), "report.docm", "", Problem.EXECUTABLE),  # macros
    (HTML, "readme.txt", "", Problem.MARKUP),
    (b"  \n<html><body onload=x>", "note.txt", "", Problem.MARKUP),
    (SVG, "logo.png", "", Problem.MARKUP),
    (XML_SVG, "image.jpg", "", Problem.MARKUP),
    (b"hello", "page.htm", "", Problem.MARKUP),
    (bytes(range(256)) * 4, "blob.bin", "", Problem.UNSUPPORTED),
    (b"", "empty.txt", "", Problem.EMPTY),
]


@pytest.mark.parametrize(("data", "name", "content_type", "problem"), CASES)
def test_upload_is_judged_by_its_bytes(
    data: bytes, name: str, content_type: str, problem: Problem | None
) -> None:
    verdict = check_upload(head=data[:8192], filename=name, size=len(data), max_bytes=20 * MB)
    assert (verdict.content_type, verdict.problem) == (content_type, problem)


def test_size_limit() -> None:
    assert check_upload(head=PNG, filename="a.png", size=20 * MB, max_bytes=20 * MB).ok
    too_big = check_upload(head=PNG, filename="a.png", size=20 * MB + 1, max_bytes=20 * MB)
    assert too_big.problem == Problem.TOO_LARGE
