from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from kefu.conftest import Tenant, api_client, login
from kefu.tickets.models import Ticket, TicketEvent


def _post(http: HttpClient, url: str, data: object) -> tuple[int, dict]:
    r = http.post(url, data=json.dumps(data), content_type="application/json")
    return r.status_code, r.json()


def test_integration_creates_ticket_with_customer(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)
    status, body = _post(
        http,
        "/api/v1/tickets",
        {
            "client": "ACME",
            "subject": "发票抬头修改",
            "body": "请把发票抬头改为…",
            "channel": "portal",
            "kind": "request",
            "priority": "high",
            "customer": {"name": "李雷", "phone": "13912345678"},
            "tags": ["发票"],
        },
    )
    assert status == 201, body
    assert body["number"].startswith("KF-") and body["status"] == "new"
    # Customer data comes back masked, even to the integration that sent it.
    assert body["customer"]["name"] == "李*" and body["tags"] == ["发票"]
    assert body["customer"]["phones"] == ["139****5678"]
    detail = http.get(f"/api/v1/tickets/{body['id']}").json()
    assert detail["messages"][0]["body_text"] == "请把发票抬头改为…"
    assert [e["type"] for e in detail["events"]] == ["created"]


def test_the_answer_lists_the_customers_other_open_tickets(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)
    ticket = {"client": "ACME", "subject": "咨询", "channel": "email"}
    customer = {"email": "new.customer@example.com"}
    status, first = _post(http, "/api/v1/tickets", {**ticket, "customer": customer})
    assert status == 201 and first["open_tickets"] == []  # a customer new with this ticket
    status, second = _post(http, "/api/v1/tickets", {**ticket, "customer": customer})
    assert status == 201 and second["customer"]["id"] == first["customer"]["id"]
    assert [t["number"] for t in second["open_tickets"]] == [first["number"]]
    Ticket.objects.filter(pk=first["id"]).update(status="resolved")
    status, third = _post(http, "/api/v1/tickets", {**ticket, "customer": customer})
    assert [t["number"] for t in third["open_tickets"]] == [second["number"]]


def test_list_paginates_with_cursor(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)
    for i in range(4):
        _post(http, "/api/v1/tickets", {"client": "ACME", "subject": f"第{i}个", "body": "x"})
    first = http.get("/api/v1/tickets?limit=2&status=").json()
    assert len(first["items"]) == 2 and first["next_before"]
    second = http.get(f"/api/v1/tickets?limit=2&status=&before={first['next_before']}").json()
    third = http.get(f"/api/v1/tickets?limit=2&status=&before={second['next_before']}").json()
    ids = [t["id"] for page in (first, second, third) for t in page["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert third["next_before"] is None


def test_update_and_messages(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.supervisor)
    tid = tenant_a.ticket.pk
    r = http.patch(
        f"/api/v1/tickets/{tid}",
        data=json.dumps(
            {"priority": "urgent", "assignee": tenant_a.agent.username, "status": "pending"}
        ),
        content_type="application/json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["priority"] == "urgent" and r.json()["assignee"] == tenant_a.agent.username
    assert r.json()["status"] == "pending"
    status, msg = _post(
        http, f"/api/v1/tickets/{tid}/messages", {"direction": "in", "body": "我补充一下"}
    )
    assert status == 201 and msg["direction"] == "in"
    assert Ticket.objects.get(pk=tid).status == "open"  # the customer's reply resumes it
    assert TicketEvent.objects.filter(ticket_id=tid, type="priority").exists()


def test_errors_are_json(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)
    r = http.get("/api/v1/tickets/999999")
    assert r.status_code == 404 and "detail" in r.json()
    status, body = _post(http, "/api/v1/tickets", {"client": "ACME", "subject": ""})
    assert status == 422 and "detail" in body
    status, body = _post(http, "/api/v1/tickets", {"client": "NOPE", "subject": "x"})
    assert status == 422 and "client" in body["detail"]
    r = http.patch(
        f"/api/v1/tickets/{tenant_a.ticket.pk}", data="{not json", content_type="application/json"
    )
    assert r.status_code in (400, 422) and r["Content-Type"].startswith("application/json")
    anon = HttpClient()
    r = anon.get("/api/v1/tickets")
    assert r.status_code == 401 and "detail" in r.json()
    r = HttpClient(headers={"Authorization": "Bearer kf_wrong"}).get("/api/v1/tickets")
    assert r.status_code == 401


def test_read_only_roles_cannot_write(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.auditor)
    assert http.get(f"/api/v1/tickets/{tenant_a.ticket.pk}").status_code == 200
    status, _ = _post(http, f"/api/v1/tickets/{tenant_a.ticket.pk}/messages", {"body": "x"})
    assert status == 403
    status, _ = _post(http, "/api/v1/tickets", {"client": "ACME", "subject": "x"})
    assert status == 403
    r = http.patch(
        f"/api/v1/tickets/{tenant_a.ticket.pk}",
        data='{"priority": "low"}',
        content_type="application/json",
    )
    assert r.status_code == 403
    assert Ticket.objects.get(pk=tenant_a.ticket.pk).priority == "normal"


def test_revoked_token_stops_working(tenant_a: Tenant) -> None:
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import api_token_revoke

    http = api_client(tenant_a.agent)
    assert http.get("/api/v1/tickets").status_code == 200
    api_token_revoke(token=ApiToken.objects.get(user=tenant_a.agent))
    assert http.get("/api/v1/tickets").status_code == 401


def test_session_auth_needs_csrf(tenant_a: Tenant) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(tenant_a.agent)
    assert http.get("/api/v1/tickets").status_code == 200
    r = http.post(
        "/api/v1/tickets",
        data='{"client": "ACME", "subject": "x"}',
        content_type="application/json",
    )
    assert r.status_code in (401, 403)


@pytest.mark.django_db
def test_openapi_is_served_and_docs_are_local() -> None:
    spec = HttpClient().get("/api/v1/openapi.json").json()
    assert "/api/v1/tickets" in spec["paths"]
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/tickets"])


def test_docs_page_uses_no_cdn(tenant_a: Tenant) -> None:
    html = login(tenant_a.agent).get("/api/v1/docs").content.decode()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_text_with_a_nul_character_is_refused_with_the_field_named(tenant_a: Tenant) -> None:
    """PostgreSQL cannot store U+0000 in text: it is refused at the door, on both databases,
    wherever the API takes text (body, tags, query, form), as the pages' forms refuse it."""
    http = api_client(tenant_a.agent)
    tid = tenant_a.ticket.pk
    new = {"client": "ACME", "subject": "宽带\x00掉线", "body": "x"}
    cases = [
        ("post", "/api/v1/tickets", new, "subject"),
        ("post", "/api/v1/tickets", {**new, "subject": "x", "tags": ["a\x00"]}, "tags"),
        ("post", "/api/v1/tickets", {**new, "subject": "x", "customer": {"name": "\x00"}}, "name"),
        ("patch", f"/api/v1/tickets/{tid}", {"tags": ["ok", "b\x00"]}, "tags"),
        ("post", f"/api/v1/tickets/{tid}/messages", {"body": "补充\x00"}, "body"),
        ("post", "/api/v1/customers", {"client": "ACME", "email": "a\x00@x.cn"}, "email"),
    ]
    before = (Ticket.objects.count(), TicketEvent.objects.count())
    for method, url, data, field in cases:
        r = getattr(http, method)(url, data=json.dumps(data), content_type="application/json")
        assert r.status_code == 422, (url, r.content)
        assert field in json.dumps(r.json()) and "NUL" in json.dumps(r.json()), r.json()
    r = http.get("/api/v1/tickets", {"q": "掉\x00线"})
    assert r.status_code == 422 and "q" in json.dumps(r.json())
    r = http.post(f"/api/v1/tickets/{tid}/attachments", {"body": "附件\x00说明"})
    assert r.status_code == 422 and "NUL" in json.dumps(r.json()), r.content
    assert (Ticket.objects.count(), TicketEvent.objects.count()) == before
