"""Staff and public knowledge-base pages: who sees what, and what a customer can do."""

from __future__ import annotations

import json

from django.test import Client as HttpClient

from kefu.conftest import Tenant, login
from kefu.kb import services
from kefu.kb.models import Article, ArticleView
from kefu.kb.tests.factories import article


def test_staff_of_one_client_cannot_see_anothers_drafts(tenant_a: Tenant, tenant_b: Tenant) -> None:
    draft_b = article(tenant_b.client, "乙方内部草稿", "未发布", published=False)
    own = article(tenant_a.client, "甲方文章", "内容", published=False)
    http = login(tenant_a.supervisor)
    page = http.get("/kb/").content.decode()
    assert "甲方文章" in page and "乙方内部草稿" not in page
    assert http.get(f"/kb/{draft_b.pk}/").status_code == 404
    assert http.get(f"/kb/{own.pk}/").status_code == 200
    assert http.get(f"/kb/?client={tenant_b.client.pk}").status_code == 403


def test_supervisor_writes_an_article_and_sees_its_versions(tenant_a: Tenant) -> None:
    http = login(tenant_a.supervisor)
    response = http.post(
        "/kb/new/",
        {
            "client": tenant_a.client.pk,
            "title": "发票开具",
            "body": "<p>订单完成后申请。</p><script>x()</script>",
            "lang": "zh-hans",
            "status": "published",
            "tags": "发票，开票",
        },
    )
    a = Article.objects.get(title="发票开具")
    assert response.status_code == 302 and a.tags == ["发票", "开票"]
    assert "script" not in a.body_html
    http.post(
        f"/kb/{a.pk}/",
        {
            "title": "发票开具",
            "body": "<p>订单完成七天内申请。</p>",
            "lang": "zh-hans",
            "status": "published",
            "note": "期限",
        },
    )
    diff = http.get(f"/kb/{a.pk}/v/2/").content.decode()
    assert "-订单完成后申请。" in diff and "+订单完成七天内申请。" in diff
    # An agent reads but may not write.
    agent = login(tenant_a.agent)
    assert agent.get(f"/kb/{a.pk}/").status_code == 200
    assert (
        agent.post(
            f"/kb/{a.pk}/", {"title": "改", "body": "x", "lang": "zh-hans", "status": "draft"}
        ).status_code
        == 403
    )


def test_public_pages_show_only_the_clients_published_and_shared_articles(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = article(tenant_a.client, "退款流程", "退款三天到账。")
    shared = article(None, "退款常见问题", "共用：退款说明。")
    draft = article(tenant_a.client, "退款草稿", "未发布", published=False)
    other = article(tenant_b.client, "退款政策", "乙方的退款。")
    anon = HttpClient()
    page = anon.get("/p/ACME/kb/?q=退款").content.decode()
    assert "退款流程" in page and "退款常见问题" in page
    assert "退款草稿" not in page and "退款政策" not in page
    assert anon.get(f"/p/ACME/kb/a/{mine.pk}/").status_code == 200
    assert anon.get(f"/p/ACME/kb/a/{shared.pk}/").status_code == 200
    assert anon.get(f"/p/ACME/kb/a/{draft.pk}/").status_code == 404
    assert anon.get(f"/p/ACME/kb/a/{other.pk}/").status_code == 404
    assert anon.get(f"/p/BETA/kb/a/{mine.pk}/").status_code == 404
    assert anon.get("/p/NOPE/kb/").status_code == 404


def test_suggest_then_read_then_feedback(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "宽带无法上网怎么办", "请重启光猫。")
    anon = HttpClient()
    data = json.loads(anon.get("/p/ACME/kb/suggest", {"q": "宽带上不了网"}).content)
    [hit] = data["results"]
    assert hit["title"] == "宽带无法上网怎么办" and hit["url"].endswith("?from=suggest")
    assert anon.get(hit["url"]).status_code == 200
    view = ArticleView.objects.get()
    assert view.source == "suggest" and len(view.visitor) == 64
    anon.post(f"/p/ACME/kb/a/{a.pk}/helpful", {"helpful": "yes"})
    anon.post(f"/p/ACME/kb/a/{a.pk}/helpful", {"helpful": "yes"})
    a.refresh_from_db()
    assert (a.helpful_yes, a.helpful_no) == (1, 0)
    # The portal reports a request from the same browser: the view is not a deflection.
    services.kb_request_submitted(client=tenant_a.client, session_key=anon.session.session_key)
    from kefu.kb.models import RequestMark

    assert RequestMark.objects.get().visitor == view.visitor


def test_agent_insert_endpoints(tenant_a: Tenant, tenant_b: Tenant) -> None:
    article(tenant_a.client, "退款到账时间", "退款三个工作日内到账。")
    services.canned_reply_save(
        actor=tenant_a.supervisor,
        client=tenant_a.client,
        shortcut="退款",
        title="退款",
        body="{客户}您好，{工单号}已退款。",
    )
    http = login(tenant_a.agent)
    t = tenant_a.ticket
    found = json.loads(
        http.get("/kb/agent/articles.json", {"ticket": str(t.pk), "q": "退款"}).content
    )
    assert found["results"][0]["text"] == "退款三个工作日内到账。"
    assert "/p/ACME/kb/a/" in found["results"][0]["url"]
    canned = json.loads(
        http.get("/kb/agent/canned.json", {"ticket": str(t.pk), "q": "/退"}).content
    )
    assert canned["results"][0]["text"] == f"王**您好，{t.number}已退款。"
    assert (
        http.get("/kb/agent/canned.json", {"ticket": str(tenant_b.ticket.pk), "q": "/"}).status_code
        == 404
    )


def test_chat_console_side_panel_offers_the_insert_tools_for_the_chats_ticket(
    tenant_a: Tenant,
) -> None:
    from kefu.chat.tests.test_console_pages import chat_in_progress

    conversation = chat_in_progress(tenant_a)
    assert conversation.ticket is not None
    services.canned_reply_save(
        actor=tenant_a.supervisor,
        client=tenant_a.client,
        shortcut="你好",
        title="问候",
        body="{客户}您好",
    )
    http = login(tenant_a.agent)
    body = http.get(f"/chat/console/conversations/{conversation.pk}/").content.decode()
    assert "data-kb-insert" in body
    assert f"/kb/agent/canned.json?ticket={conversation.ticket.pk}" in body
    canned = json.loads(
        http.get(
            "/kb/agent/canned.json", {"ticket": str(conversation.ticket.pk), "q": "/你"}
        ).content
    )
    assert canned["results"][0]["text"] == "李**您好"
    console = http.get("/chat/console/").content.decode()
    assert "kefu/kb-insert" in console
