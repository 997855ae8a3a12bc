"""What agents see of one customer across channels, and the merge page and endpoint."""

from __future__ import annotations

import json
import re

from kefu.conftest import Tenant, api_client, login
from kefu.tickets import services
from kefu.tickets.models import Customer, Ticket
from kefu.tickets.services import CustomerData


def _panel(html: str) -> str:
    m = re.search(r'<section class="card" id="customer-other-tickets">(.*?)</section>', html, re.S)
    assert m, "no other-tickets panel"
    return m.group(1)


def test_the_ticket_page_lists_the_customers_tickets_from_every_channel(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    wechat = services.ticket_create(
        client=tenant_a.client,
        subject="微信上问物流 13912345678",
        body="x",
        channel="wechat",
        customer=tenant_a.customer,
    )
    phone = services.ticket_create(
        client=tenant_a.client,
        subject="来电查询",
        body="x",
        channel="phone",
        customer=CustomerData(phone="13800138000"),
    )
    services.ticket_set_status(ticket=phone, actor=None, status="resolved")
    # Client B's customer with the same phone number is another person.
    services.ticket_create(
        client=tenant_b.client,
        subject="乙方客户的工单",
        body="x",
        channel="phone",
        customer=CustomerData(phone="13800138000"),
    )
    panel = _panel(login(tenant_a.agent).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode())
    assert wechat.number in panel and phone.number in panel
    assert "微信" in panel and "电话" in panel and "已解决" in panel
    assert "139****5678" in panel and "13912345678" not in panel  # masked as elsewhere
    assert tenant_a.ticket.number not in panel  # not the ticket itself
    assert "乙方客户的工单" not in panel and tenant_b.ticket.number not in panel

    # From the other ticket, the first one shows.
    panel = _panel(login(tenant_a.agent).get(f"/tickets/{wechat.pk}/").content.decode())
    assert tenant_a.ticket.number in panel


def test_a_new_ticket_warns_about_the_customers_open_tickets(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    form: dict[str, str | int] = {
        "client": tenant_a.client.pk,
        "channel": "phone",
        "kind": "inquiry",
        "priority": "normal",
        "subject": "又来电了",
        "body": "还是空调的问题",
        "customer_phone": "138 0013 8000",
    }
    # Before creating: the details typed so far find the customer and their open ticket.
    check = http.get("/tickets/new/check/", {k: form[k] for k in ("client", "customer_phone")})
    assert "该客户还有 1 张未解决的工单" in check.content.decode()
    assert tenant_a.ticket.number in check.content.decode()
    assert (
        "未解决"
        not in http.get(
            "/tickets/new/check/", {"client": str(tenant_a.client.pk), "customer_phone": "1300000"}
        ).content.decode()
    )

    r = http.post("/tickets/new/", form, follow=True)
    assert r.status_code == 200
    page = r.content.decode()
    assert "该客户还有 1 张未解决的工单" in page and tenant_a.ticket.number in page
    new = Ticket.objects.latest("id")
    assert new.customer == tenant_a.customer

    # The API says the same in its answer.
    r = api_client(tenant_a.agent).post(
        "/api/v1/tickets",
        data=json.dumps(
            {
                "client": "ACME",
                "subject": "邮件再问",
                "channel": "email",
                "customer": {"email": "wang@acme.cn"},
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201
    numbers = [t["number"] for t in r.json()["open_tickets"]]
    assert numbers == [new.number, tenant_a.ticket.number]


def test_details_an_agent_types_are_unverified(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    form = {
        "client": tenant_a.client.pk,
        "channel": "phone",
        "kind": "inquiry",
        "priority": "normal",
        "subject": "新客户来电",
        "body": "x",
        "customer_name": "周八",
        "customer_phone": "13511112222",
    }
    http.post("/tickets/new/", form)
    typed = Ticket.objects.latest("id").customer
    assert typed is not None
    assert not typed.identifiers.filter(verified=True).exists()
    # A second agent typing the same number does not attach to that record.
    http.post("/tickets/new/", {**form, "subject": "又一位"})
    assert Ticket.objects.latest("id").customer != typed


def test_supervisor_merges_two_records_from_the_ticket_page(tenant_a: Tenant) -> None:
    other = services.customer_create(
        client=tenant_a.client, data=CustomerData(name="王小明", email="xiaoming@qq.com")
    )
    later = services.ticket_create(
        client=tenant_a.client, subject="QQ 邮箱来信", body="x", channel="email", customer=other
    )
    http = login(tenant_a.supervisor)
    page = http.get(f"/tickets/{later.pk}/").content.decode()
    assert f"/tickets/customers/{other.pk}/merge/?ticket={later.pk}" in page

    found = http.get(
        f"/tickets/customers/{other.pk}/merge/", {"other": "138-0013-8000", "ticket": str(later.pk)}
    ).content.decode()
    assert f'name="other" value="{tenant_a.customer.pk}"' in found
    assert "138****8000" in found and "13800138000" not in found

    r = http.post(
        f"/tickets/customers/{other.pk}/merge/",
        {"other": tenant_a.customer.pk, "keep": tenant_a.customer.pk, "ticket": later.pk},
    )
    assert r.status_code == 302 and r["Location"] == f"/tickets/{later.pk}/"
    later.refresh_from_db()
    assert later.customer == tenant_a.customer
    assert Customer.objects.get(pk=other.pk).merged_into == tenant_a.customer
    panel = _panel(http.get(f"/tickets/{later.pk}/").content.decode())
    assert tenant_a.ticket.number in panel

    # Agents neither see the link nor reach the page.
    agent = login(tenant_a.agent)
    assert "/merge/" not in agent.get(f"/tickets/{later.pk}/").content.decode()
    assert agent.get(f"/tickets/customers/{other.pk}/merge/").status_code == 403


def test_merge_through_the_api(tenant_a: Tenant, tenant_b: Tenant) -> None:
    other = services.customer_create(
        client=tenant_a.client, data=CustomerData(wechat_openid="oApi")
    )
    http = api_client(tenant_a.supervisor)
    url = f"/api/v1/customers/{other.pk}/merge"
    refused = http.post(
        url, data=json.dumps({"into": tenant_b.customer.pk}), content_type="application/json"
    )
    assert refused.status_code == 404
    r = http.post(
        url,
        data=json.dumps({"into": tenant_a.customer.pk, "reason": "同一人"}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["id"] == tenant_a.customer.pk
    tombstone = http.get(f"/api/v1/customers/{other.pk}").json()
    assert tombstone["merged_into"] == tenant_a.customer.pk
    listed = [c["id"] for c in http.get("/api/v1/customers").json()["items"]]
    assert other.pk not in listed
    found = services.customer_find(client=tenant_a.client, data=CustomerData(wechat_openid="oApi"))
    assert found == tenant_a.customer
    agent = api_client(tenant_a.agent)
    assert (
        agent.post(
            url, data=json.dumps({"into": tenant_a.customer.pk}), content_type="application/json"
        ).status_code
        == 403
    )


def test_an_agent_confirms_a_typed_number_on_the_ticket_page(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    http.post(
        "/tickets/new/",
        {
            "client": tenant_a.client.pk,
            "channel": "phone",
            "kind": "inquiry",
            "priority": "normal",
            "subject": "新客户来电",
            "body": "x",
            "customer_phone": "13522223333",
            "customer_email": "zhou@example.cn",
        },
    )
    ticket = Ticket.objects.latest("id")
    page = http.get(f"/tickets/{ticket.pk}/").content.decode()
    m = re.search(r'<ul class="identifiers" id="customer-identifiers">(.*?)</ul>', page, re.S)
    assert m
    assert "135****3333" in m.group(1) and "z***@example.cn" in m.group(1)
    assert "13522223333" not in page and m.group(1).count("未验证") == 2
    assert ticket.customer is not None
    phone = ticket.customer.identifiers.get(kind="phone")
    data = CustomerData(phone="13522223333")
    assert services.customer_find(client=tenant_a.client, data=data) is None

    r = http.post(f"/tickets/{ticket.pk}/identifiers/{phone.pk}/verify/")
    assert r.status_code == 302
    assert services.customer_find(client=tenant_a.client, data=data) == ticket.customer
    page = http.get(f"/tickets/{ticket.pk}/").content.decode()
    assert page.count("未验证") == 1
    # An auditor sees the identifiers but cannot confirm them.
    auditor = login(tenant_a.auditor)
    email = ticket.customer.identifiers.get(kind="email")
    r = auditor.post(f"/tickets/{ticket.pk}/identifiers/{email.pk}/verify/")
    assert r.status_code == 403


def test_an_integration_passes_wechat_ids_through_the_api(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)

    def create(customer: dict[str, str]) -> dict[str, object]:
        r = http.post(
            "/api/v1/tickets",
            data=json.dumps(
                {"client": "ACME", "subject": "微信咨询", "channel": "wechat", "customer": customer}
            ),
            content_type="application/json",
        )
        assert r.status_code == 201, r.content
        body: dict[str, object] = r.json()
        return body

    first = create({"wechat_openid": "oRelay", "name": "吴十"})
    second = create({"wechat_unionid": "uRelay", "wechat_openid": "oRelay"})
    third = create({"wechat_unionid": "uRelay", "wechat_openid": "oAnotherAccount"})
    ids = {t["customer"]["id"] for t in (first, second, third)}  # type: ignore[index]
    assert len(ids) == 1
    assert [t["number"] for t in third["open_tickets"]] == [second["number"], first["number"]]  # type: ignore[attr-defined]


def test_the_panel_costs_the_same_queries_whatever_the_customers_history(
    tenant_a: Tenant,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = login(tenant_a.agent)
    url = f"/tickets/{tenant_a.ticket.pk}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx.captured_queries)

    services.ticket_create(
        client=tenant_a.client,
        subject="第一张",
        body="x",
        channel="chat",
        customer=tenant_a.customer,
    )
    few = queries()
    for i, channel in enumerate(("phone", "wechat", "portal", "email") * 3):
        services.ticket_create(
            client=tenant_a.client,
            subject=f"第{i}张",
            body="x",
            channel=channel,
            customer=CustomerData(phone="13800138000", wechat_openid=f"o{i}"),
        )
    assert queries() == few


def test_the_new_ticket_check_never_looks_into_another_client(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    http = login(tenant_a.agent)
    r = http.get(
        "/tickets/new/check/", {"client": str(tenant_b.client.pk), "customer_phone": "13800138000"}
    )
    assert r.status_code == 200
    assert tenant_b.ticket.number not in r.content.decode()
    assert "未解决" not in r.content.decode()
    assert login(tenant_a.auditor).get("/tickets/new/check/").status_code == 403
