"""Pictures and files from the widget: POST /chat/w/<key>/files from a page of the widget's
own site, with the conversation's token; checked like every upload; a file sent again with
the same client id is the same message; the widget reads back its own conversation's files
only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from kefu.chat import views_widget
from kefu.chat.models import ChatWidget
from kefu.chat.services import Started, conversation_start, widget_create
from kefu.conftest import Tenant
from kefu.tickets import services as tickets
from kefu.tickets.models import Attachment, Direction, Message

SITE = "https://www.shop-a.example"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100


@pytest.fixture(autouse=True)
def _fresh_budgets() -> Iterator[None]:
    views_widget._upload_budgets.clear()
    yield
    views_widget._upload_budgets.clear()


def _chat(t: Tenant, origin: str = SITE) -> tuple[ChatWidget, Started]:
    widget = widget_create(client=t.client, origins=[origin], name="官网")
    started = conversation_start(
        widget=widget, name="李女士", consent=True, notice_version=widget.notice_version
    )
    return widget, started


def _post(
    widget: ChatWidget,
    started: Started,
    upload: SimpleUploadedFile,
    *,
    cid: str = "f-1",
    origin: str = SITE,
    token: str | None = None,
    conversation: int | None = None,
) -> Any:
    return HttpClient().post(
        f"/chat/w/{widget.key}/files",
        {
            "conversation": conversation or started.conversation.pk,
            "token": started.token if token is None else token,
            "cid": cid,
            "file": upload,
        },
        headers={"Origin": origin},
    )


def _customer_files(started: Started) -> list[Message]:
    return list(
        Message.objects.filter(
            ticket=started.conversation.ticket,
            direction=Direction.INBOUND,
            attachments__isnull=False,
        )
    )


def test_a_picture_is_a_message_of_the_chat_and_the_widget_can_show_it(tenant_a: Tenant) -> None:
    widget, started = _chat(tenant_a)
    r = _post(widget, started, SimpleUploadedFile("发票.png", PNG, content_type="text/html"))
    assert r.status_code == 201, r.content
    assert r["Access-Control-Allow-Origin"] == SITE
    answer = r.json()
    assert answer["type"] == "ack" and answer["cid"] == "f-1"
    (attachment,) = answer["message"]["attachments"]
    # The type is what the bytes are, not what the browser claimed.
    assert attachment["type"] == "image/png" and attachment["name"] == "发票.png"
    (message,) = _customer_files(started)
    assert message.pk == answer["id"] and message.channel_ids["cid"] == "f-1"

    url = f"/chat/w/{widget.key}/files/{attachment['id']}"
    shown: Any = HttpClient().get(
        url, {"conversation": str(started.conversation.pk), "token": started.token}
    )
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == PNG
    assert shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_the_same_cid_sent_again_is_the_same_message(tenant_a: Tenant) -> None:
    widget, started = _chat(tenant_a)
    first = _post(widget, started, SimpleUploadedFile("a.png", PNG))
    again = _post(widget, started, SimpleUploadedFile("a.png", PNG))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(_customer_files(started)) == 1
    assert Attachment.objects.count() == 1
    other = _post(widget, started, SimpleUploadedFile("a.png", PNG), cid="f-2")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("logo.png", SVG, "不允许上传网页、SVG 或 XML 文件"),
        ("报价.pdf", EXE, "不允许上传程序或脚本文件"),
        ("空.txt", b"", "附件是空文件"),
    ],
)
def test_a_refused_file_type_is_told_and_nothing_is_stored(
    tenant_a: Tenant, name: str, content: bytes, words: str
) -> None:
    widget, started = _chat(tenant_a)
    r = _post(widget, started, SimpleUploadedFile(name, content))
    assert r.status_code == 400
    assert r["Access-Control-Allow-Origin"] == SITE  # the widget can read why
    error = r.json()
    assert error["code"] == "file" and words in error["message"] and error["ref"] == "f-1"
    assert not Attachment.objects.exists()
    assert _customer_files(started) == []


def test_an_oversized_file_is_refused(tenant_a: Tenant, settings: Any) -> None:
    settings.KEFU_MAX_ATTACHMENT_BYTES = 1024
    widget, started = _chat(tenant_a)
    r = _post(widget, started, SimpleUploadedFile("大图.png", PNG * 40))
    assert r.status_code == 400 and r.json()["code"] == "file"
    assert "附件过大：大图.png" in r.json()["message"]
    # Far past the limit: refused from the request's length, before the body is read.
    r = _post(widget, started, SimpleUploadedFile("巨图.png", PNG * 3000))
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert not Attachment.objects.exists()


def test_a_wrong_token_or_another_widgets_conversation_finds_nothing(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    widget, started = _chat(tenant_a)
    r = _post(widget, started, SimpleUploadedFile("a.png", PNG), token="guessed")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = _post(widget, started, SimpleUploadedFile("a.png", PNG), token="")
    assert r.status_code == 404
    # A conversation of another client's widget, with its own token but this widget's key.
    _other_widget, other = _chat(tenant_b, origin="https://www.beta.example")
    r = _post(widget, other, SimpleUploadedFile("a.png", PNG))
    assert r.status_code == 404
    assert not Attachment.objects.exists()


def test_a_foreign_site_is_refused_without_cors(tenant_a: Tenant) -> None:
    widget, started = _chat(tenant_a)
    r = _post(widget, started, SimpleUploadedFile("a.png", PNG), origin="https://evil.example")
    assert r.status_code == 403 and r.json()["code"] == "origin"
    assert "Access-Control-Allow-Origin" not in r
    r = HttpClient().post(
        f"/chat/w/{widget.key}/files",
        {"conversation": started.conversation.pk, "token": started.token, "cid": "f-1"},
    )  # no Origin at all: not a page of the widget's site
    assert r.status_code == 403
    assert not Attachment.objects.exists()


def test_the_preflight_answers_the_widgets_site_only(tenant_a: Tenant) -> None:
    widget, _started = _chat(tenant_a)
    url = f"/chat/w/{widget.key}/files"
    ok = HttpClient().options(
        url, headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
    )
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == SITE
    assert "POST" in ok["Access-Control-Allow-Methods"]
    refused = HttpClient().options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert HttpClient().options("/chat/w/nope/files", headers={"Origin": SITE}).status_code == 404


def test_the_widget_reads_only_its_own_conversations_public_files(tenant_a: Tenant) -> None:
    widget, started = _chat(tenant_a)
    widget2, other = _chat(tenant_a)
    mine = _post(widget, started, SimpleUploadedFile("mine.png", PNG)).json()
    theirs = _post(widget2, other, SimpleUploadedFile("theirs.png", PNG), cid="f-9").json()
    assert started.conversation.ticket is not None
    tickets.ticket_add_note(
        ticket=started.conversation.ticket,
        actor=tenant_a.agent,
        body="内部",
        attachments=[SimpleUploadedFile("internal.png", PNG)],
    )
    internal = Attachment.objects.get(filename="internal.png")

    def get(attachment_id: int, token: str = started.token) -> int:
        return (
            HttpClient()
            .get(
                f"/chat/w/{widget.key}/files/{attachment_id}",
                {"conversation": str(started.conversation.pk), "token": token},
            )
            .status_code
        )

    assert get(mine["message"]["attachments"][0]["id"]) == 200
    assert get(mine["message"]["attachments"][0]["id"], token="guessed") == 404
    assert get(theirs["message"]["attachments"][0]["id"]) == 404
    assert get(internal.pk) == 404


def test_a_flood_of_files_from_one_address_is_slowed(tenant_a: Tenant) -> None:
    widget, started = _chat(tenant_a)
    codes = [
        _post(widget, started, SimpleUploadedFile("a.png", PNG), cid=f"f-{n}").status_code
        for n in range(int(views_widget.UPLOAD_BURST) + 1)
    ]
    assert codes[:-1] == [201] * int(views_widget.UPLOAD_BURST)
    assert codes[-1] == 429
    assert len(_customer_files(started)) == int(views_widget.UPLOAD_BURST)
