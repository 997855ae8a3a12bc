"""Attachments end to end: uploaded on the ticket page and through the API, checked by
content, and served only as downloads to those who may see the ticket."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from kefu.accounts.models import TokenScope
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant, login
from kefu.tickets.models import Attachment, Message

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _reply(http: HttpClient, tenant: Tenant, upload: SimpleUploadedFile) -> str:
    r = http.post(
        f"/tickets/{tenant.ticket.pk}/reply/",
        {"body": "请查收附件", "new_status": "", "attachments": [upload]},
        follow=True,
    )
    assert r.status_code == 200
    return r.content.decode()


def test_reply_with_picture_is_stored_as_what_it_is(tenant_a: Tenant, tenant_b: Tenant) -> None:
    http = login(tenant_a.agent)
    # The browser claims HTML; the bytes are a PNG, and that is what kefu keeps.
    page = _reply(http, tenant_a, SimpleUploadedFile("维修单.png", PNG, content_type="text/html"))
    attachment = Attachment.objects.get(ticket=tenant_a.ticket)
    assert attachment.content_type == "image/png" and attachment.filename == "维修单.png"
    url = f"/tickets/attachments/{attachment.pk}/"
    assert url in page

    r = http.get(url)
    assert r.status_code == 200 and _body(r) == PNG
    assert r["Content-Type"] == "image/png"
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in r["Content-Security-Policy"]

    assert login(tenant_a.auditor).get(url).status_code == 200  # may see the ticket
    assert login(tenant_b.agent).get(url).status_code == 404
    assert login(tenant_b.auditor).get(url).status_code == 404
    assert HttpClient().get(url).status_code == 302  # to the login page


def test_script_carrying_upload_is_refused_with_a_message(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    before = Message.objects.filter(ticket=tenant_a.ticket).count()
    page = _reply(http, tenant_a, SimpleUploadedFile("logo.png", SVG, content_type="image/png"))
    assert "不允许上传网页、SVG 或 XML 文件" in page and "logo.png" in page
    page = _reply(http, tenant_a, SimpleUploadedFile("报价.pdf", EXE))
    assert "不允许上传程序或脚本文件" in page
    assert Message.objects.filter(ticket=tenant_a.ticket).count() == before
    assert not Attachment.objects.exists()
    # The typed reply is not lost: the form shows it again, once.
    assert "请查收附件</textarea>" in page
    again = http.get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert "请查收附件</textarea>" not in again


def test_oversized_upload_is_refused(tenant_a: Tenant, settings: object) -> None:
    settings.KEFU_MAX_ATTACHMENT_BYTES = 1024  # type: ignore[attr-defined]
    page = _reply(login(tenant_a.agent), tenant_a, SimpleUploadedFile("大图.png", PNG * 40))
    assert "附件过大：大图.png" in page and "1.0\xa0KB" in page
    assert not Attachment.objects.exists()


def _token(user: object, scope: str = TokenScope.WRITE) -> HttpClient:
    _t, raw = api_token_create(user=user, name="crm", scope=scope)  # type: ignore[arg-type]
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def test_api_upload_and_download(tenant_a: Tenant, tenant_b: Tenant) -> None:
    api = _token(tenant_a.agent)
    r = api.post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments",
        {"body": "现场照片", "direction": "note", "files": [SimpleUploadedFile("现场.png", PNG)]},
    )
    assert r.status_code == 201, r.content
    (listed,) = r.json()["attachments"]
    assert listed["content_type"] == "image/png" and listed["filename"] == "现场.png"

    r = api.get(f"/api/v1/attachments/{listed['id']}")
    assert r.status_code == 200 and _body(r) == PNG
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["X-Content-Type-Options"] == "nosniff"
    assert _token(tenant_b.agent).get(f"/api/v1/attachments/{listed['id']}").status_code == 404


def test_api_refuses_bad_files_with_400_json(tenant_a: Tenant) -> None:
    api = _token(tenant_a.agent)
    r = api.post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments",
        {"body": "见附件", "direction": "out", "files": [SimpleUploadedFile("a.svg", SVG)]},
    )
    assert r.status_code == 400 and r["Content-Type"].startswith("application/json")
    assert "SVG" in r.json()["detail"]["attachments"][0]
    read_only = _token(tenant_a.agent, TokenScope.READ)
    r = read_only.post(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/attachments",
        {"body": "见附件", "files": [SimpleUploadedFile("a.png", PNG)]},
    )
    assert r.status_code == 403
    assert not Attachment.objects.exists()
