from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.conftest import Tenant, login
from kefu.tickets import services
from kefu.tickets.models import Ticket


def _queries(http: object, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = http.get(url)  # type: ignore[attr-defined]
        assert r.status_code == 200
    return len(ctx.captured_queries)


def test_queue_query_count_does_not_grow_with_rows(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    few = _queries(http, "/tickets/?status=")
    for i in range(30):
        customer = services.customer_create(
            client=tenant_a.client, data=services.CustomerData(name=f"客户{i}")
        )
        t = services.ticket_create(
            client=tenant_a.client, subject=f"问题{i}", body="x", channel="chat", customer=customer
        )
        services.ticket_assign(ticket=t, actor=None, assignee=tenant_a.agent)
    many = _queries(http, "/tickets/?status=")
    assert many == few
    assert _queries(http, "/api/v1/tickets?status=") == _queries(http, "/api/v1/tickets?limit=2")


def test_ticket_page_query_count_does_not_grow_with_messages(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    url = f"/tickets/{tenant_a.ticket.pk}/"
    few = _queries(http, url)
    for i in range(15):
        services.ticket_add_customer_message(ticket=tenant_a.ticket, body=f"追问{i}")
        services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body=f"答复{i}")
    assert _queries(http, url) == few


def test_agent_replies_and_changes_status_through_pages(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    t = tenant_a.ticket
    r = http.post(
        f"/tickets/{t.pk}/reply/", {"body": "已为您预约明天上门", "new_status": "pending"}
    )
    assert r.status_code == 302
    page = http.get(f"/tickets/{t.pk}/").content.decode()
    assert "已为您预约明天上门" in page
    assert "已回复并设为“等待客户”。" in page  # says what happened, not just "saved"
    assert Ticket.objects.get(pk=t.pk).status == "pending"
    r = http.post(f"/tickets/{t.pk}/status/", {"status": "resolved"})
    assert Ticket.objects.get(pk=t.pk).status == "resolved"
    assert "状态已改为“已解决”。" in http.get(f"/tickets/{t.pk}/").content.decode()
    # An impossible transition is refused with a message in words, nothing changes.
    http.post(f"/tickets/{t.pk}/status/", {"status": "pending"})
    assert Ticket.objects.get(pk=t.pk).status == "resolved"
    page = http.get(f"/tickets/{t.pk}/").content.decode()
    flash = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S)
    assert flash is not None and "不能从“已解决”变为“等待客户”" in flash.group(1)
    assert "resolved" not in flash.group(1)  # words, not internal codes


def test_auditor_sees_ticket_read_only(tenant_a: Tenant) -> None:
    http = login(tenant_a.auditor)
    page = http.get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert tenant_a.ticket.subject in page and "reply-form" not in page
    r = http.post(f"/tickets/{tenant_a.ticket.pk}/reply/", {"body": "x"})
    assert r.status_code == 403
    assert not tenant_a.ticket.messages.filter(body_text="x").exists()


def test_language_switch_persists(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    assert 'lang="zh-hans"' in http.get("/tickets/").content.decode()
    http.post("/account/language/", {"language": "en", "next": "/tickets/"})
    page = http.get("/tickets/").content.decode()
    assert 'lang="en"' in page and "Ticket queue" in page and "工单队列" not in page


def test_overview_counts_open_work(tenant_a: Tenant, tenant_b: Tenant) -> None:
    page = login(tenant_a.supervisor).get("/tickets/overview/").content.decode()
    assert tenant_a.client.name in page and tenant_b.client.name not in page
    assert login(tenant_a.agent).get("/tickets/overview/").status_code == 403


def test_queue_filters_and_keyset_pages(tenant_a: Tenant) -> None:
    for i in range(55):
        services.ticket_create(
            client=tenant_a.client,
            subject=f"批量{i}",
            body="x",
            channel="wechat",
            priority="urgent" if i == 7 else "normal",
        )
    http = login(tenant_a.agent)
    page = http.get("/tickets/?priority=urgent").content.decode()
    assert "批量7<" in page and "批量8<" not in page
    first = http.get("/tickets/?channel=wechat")
    assert first.context["next_url"]
    second = http.get("/tickets/" + first.context["next_url"])
    shown = {t.pk for t in first.context["tickets"]} | {t.pk for t in second.context["tickets"]}
    assert len(shown) == 55
    partial = http.get("/tickets/?channel=wechat", headers={"HX-Target": "queue-results"})
    assert b"<html" not in partial.content and b"<table" in partial.content
