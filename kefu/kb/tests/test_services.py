"""Article writes: sanitising, versions, attachments, permissions, feedback; canned reply
placeholders; deflection counting."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.conftest import Tenant
from kefu.kb import services
from kefu.kb.canned import canned_render
from kefu.kb.models import ArticleStatus, ViewSource
from kefu.kb.selectors import deflection_figures
from kefu.kb.tests.factories import article
from kefu.kb.visitors import SESSION_FIELD, _digest

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_html_is_sanitised_and_pictures_kept(tenant_a: Tenant) -> None:
    a = article(
        tenant_a.client,
        "光猫指示灯",
        '<p onclick="steal()">看图<img src="/p/ACME/kb/f/1/" alt="指示灯" onerror="x()"></p>'
        '<script>alert(1)</script><a href="javascript:alert(1)">点我</a>'
        '<img src="https://example.com/a.png"><iframe src="https://evil"></iframe>',
    )
    assert "<script" not in a.body_html and "alert" not in a.body_html
    assert "onclick" not in a.body_html and "onerror" not in a.body_html
    assert "iframe" not in a.body_html and "javascript:" not in a.body_html
    assert '<img src="/p/ACME/kb/f/1/" alt="指示灯">' in a.body_html
    assert '<img src="https://example.com/a.png">' in a.body_html
    assert a.body_text.startswith("看图[指示灯]")


def test_plain_text_body_becomes_paragraphs(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "退款", "第一段 <不是标签\n\n第二段")
    assert a.body_html == "<p>第一段 &lt;不是标签</p><p>第二段</p>"


def test_each_edit_is_a_version_with_its_author(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "退款流程", "三天到账。", published=False)
    data = services.ArticleData(title="退款流程", body="五天到账。", status=ArticleStatus.PUBLISHED)
    a = services.article_update(
        actor=tenant_a.supervisor, article=a, data=data, note="到账时间变了"
    )
    # Saving the same again writes nothing.
    a = services.article_update(actor=tenant_a.supervisor, article=a, data=data)
    versions = list(a.versions.order_by("number"))
    assert [(v.number, v.changed_by_name, v.status) for v in versions] == [
        (1, "kefu", "draft"),
        (2, tenant_a.supervisor.username, "published"),
    ]
    assert "三天" in versions[0].body_html and "五天" in versions[1].body_html
    assert versions[1].note == "到账时间变了"
    assert a.published_at is not None


def test_who_may_edit(tenant_a: Tenant, tenant_b: Tenant, admin_user: object) -> None:
    data = services.ArticleData(title="t", body="b")
    with pytest.raises(PermissionDenied):
        services.article_create(actor=tenant_a.agent, client=tenant_a.client, data=data)
    with pytest.raises(PermissionDenied):
        services.article_create(actor=tenant_a.supervisor, client=tenant_b.client, data=data)
    with pytest.raises(PermissionDenied):
        services.article_create(actor=tenant_a.supervisor, client=None, data=data)
    with pytest.raises(PermissionDenied):
        services.article_create(actor=tenant_a.auditor, client=tenant_a.client, data=data)
    shared = services.article_create(actor=admin_user, client=None, data=data)  # type: ignore[arg-type]
    assert shared.is_shared


def test_attachments_are_checked_like_ticket_attachments(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "图示", "见图")
    [picture] = services.article_attach(
        actor=tenant_a.supervisor, article=a, files=[SimpleUploadedFile("灯.png", PNG, "text/html")]
    )
    assert picture.content_type == "image/png" and picture.is_image
    with pytest.raises(ValidationError, match="不允许上传网页"):
        services.article_attach(
            actor=tenant_a.supervisor,
            article=a,
            files=[SimpleUploadedFile("x.png", b"<html><script>alert(1)</script></html>")],
        )
    assert a.attachments.count() == 1


def test_feedback_counts_once_per_session(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "退款", "说明")
    services.article_feedback(article=a, visitor="v1", helpful=True)
    services.article_feedback(article=a, visitor="v1", helpful=True)
    services.article_feedback(article=a, visitor="v2", helpful=True)
    a = services.article_feedback(article=a, visitor="v2", helpful=False)
    assert (a.helpful_yes, a.helpful_no) == (1, 1)


def test_canned_reply_placeholders(tenant_a: Tenant) -> None:
    tenant_a.agent.display_name = "小李"
    reply = services.canned_reply_save(
        actor=tenant_a.supervisor,
        client=tenant_a.client,
        shortcut="/退款",
        title="退款到账",
        body="{客户}您好，工单 {工单号} 的退款已处理。{unknown} —— {agent}",
    )
    assert reply.shortcut == "退款"
    text = canned_render(reply.body, ticket=tenant_a.ticket, agent=tenant_a.agent)
    assert text == f"王**您好，工单 {tenant_a.ticket.number} 的退款已处理。{{unknown}} —— 小李"
    assert "王小明" not in text
    with pytest.raises(ValidationError):
        services.canned_reply_save(
            actor=tenant_a.supervisor,
            client=tenant_a.client,
            shortcut="退款",
            title="重复",
            body="x",
        )


def _session_with_visitor(raw: str) -> str:
    store = SessionStore()
    store[SESSION_FIELD] = raw
    store.create()
    assert store.session_key
    return store.session_key


def test_deflection_counts_views_not_followed_by_a_request(tenant_a: Tenant) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    a = article(tenant_a.client, "退款", "说明")
    t0 = datetime(2026, 3, 10, 10, 0, tzinfo=zone)
    keys = {
        name: _session_with_visitor(name)
        for name in ("left", "asked", "later", "direct", "pending")
    }

    def view(name: str, at: datetime, source: str = ViewSource.SUGGEST) -> None:
        services.article_view_record(
            client=tenant_a.client, article=a, visitor=_digest(name), source=source, at=at
        )

    view("left", t0)  # read and left: deflected
    view("asked", t0)  # read, then asked within 30 minutes: not deflected
    services.kb_request_submitted(
        client=tenant_a.client, session_key=keys["asked"], at=t0 + timedelta(minutes=20)
    )
    view("later", t0, ViewSource.SEARCH)  # asked only after 45 minutes: deflected
    services.kb_request_submitted(
        client=tenant_a.client, session_key=keys["later"], at=t0 + timedelta(minutes=45)
    )
    view("direct", t0, ViewSource.DIRECT)  # not opened from a suggestion or search: not counted
    view("left", t0 + timedelta(minutes=5))  # a reload within 30 minutes is the same view
    view("pending", datetime(2026, 3, 31, 23, 50, tzinfo=zone))  # window still open at "now"
    view("left", datetime(2026, 4, 1, 0, 10, tzinfo=zone))  # next month in Shanghai
    # A session that read nothing leaves no trace.
    services.kb_request_submitted(
        client=tenant_a.client, session_key=SessionStore().session_key, at=t0
    )

    now = datetime(2026, 4, 1, 0, 0, tzinfo=zone)
    march = deflection_figures(client=tenant_a.client, year=2026, month=3, now=now)
    assert (march.views, march.deflected, march.pending) == (4, 2, 1)
    assert march.rate == pytest.approx(2 / 3)
    april = deflection_figures(
        client=tenant_a.client, year=2026, month=4, now=now + timedelta(days=1)
    )
    assert (april.views, april.deflected) == (1, 1)
    assert deflection_figures(client=tenant_a.client, year=2026, month=5).rate is None
