"""No raw personal data in any response, for any role, until it is revealed.

Customers, messages (text and HTML), subjects, escalations, survey comments and a report
are filled with real, unmasked phone, ID and card numbers, addresses and names; then every
URL kefu serves (the walk of the tenant-isolation test, so a page added later is covered)
is fetched as every role, in the browser session and with an API token."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant, api_client, login
from kefu.core.tests.test_tenant_isolation import _fill, _objects, all_routes
from kefu.reports.services import report_issue
from kefu.surveys.models import Survey
from kefu.tickets import services

ROLES = ("admin", "supervisor", "agent", "auditor", "department_user")
# Unmasked values that must never appear in a response body outside a reveal.
RAW = (
    "13800138000",  # the fixture customer's phone
    "13912345678",
    "139-1234-5678",
    "11010519491231002X",
    "11010519491231002x",
    "6222 0212 3456 7894",
    "6222021234567894",
    "wang@acme.cn",
    "li.lei@example.com",
    "王小明",
    "李雷",
)
QUERIES = ("", "?status=")


def _body(r: HttpResponseBase) -> str:
    """The text a client would get; spreadsheets (zip of XML) are opened; PDF pages are
    compressed and checked through the report's frozen data instead."""
    raw = b"".join(r.streaming_content) if r.streaming else r.content  # type: ignore[attr-defined]
    kind = r.get("Content-Type", "")
    if "pdf" in kind:
        return ""
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return raw.decode("utf-8", "replace")


def _build(tenant: Tenant) -> dict[str, object]:
    """Personal data everywhere a customer's words or details can end up."""
    customer = services.customer_create(
        client=tenant.client,
        data=services.CustomerData(
            name="李雷", phone="+86 139-1234-5678", email="li.lei@example.com"
        ),
    )
    ticket = services.ticket_create(
        client=tenant.client,
        subject="投诉：请回电 13912345678",
        body="我的手机 13912345678，邮箱 li.lei@example.com",
        channel="email",
        kind="complaint",
        customer=customer,
        actor=tenant.agent,
    )
    message = services.ticket_add_customer_message(
        ticket=ticket,
        body="身份证 11010519491231002X，银行卡 6222 0212 3456 7894，电话 139-1234-5678",
        body_html=(
            '<p>身份证 <b>11010519491231002X</b> <a href="tel:13912345678">致电</a> '
            '<a href="mailto:li.lei@example.com">写信</a> 卡 6222021234567894</p>'
        ),
    )
    services.ticket_reply(ticket=ticket, actor=tenant.agent, body="已记下您的号码 13912345678")
    services.ticket_add_note(ticket=ticket, actor=tenant.agent, body="卡号 6222021234567894")
    escalation = services.ticket_escalate(
        ticket=ticket,
        actor=tenant.agent,
        department=tenant.department,
        reason="请部门致电 13912345678 核实 11010519491231002X",
        expected_by=timezone.now() + timedelta(days=2),
    )
    now = timezone.now()
    Survey.objects.create(
        client=tenant.client,
        ticket=ticket,
        channel="sms",
        sent_at=now,
        answered_at=now,
        score=2,
        comment="打 13912345678 找我",
    )
    label = timezone.localdate().strftime("%Y-%m")
    report = report_issue(client=tenant.client, month_label=label, actor=None)
    return {
        "ticket": ticket.pk,
        "customer": customer.pk,
        "message": message.pk,
        "escalation": escalation.pk,
        "month": label,
        "report": report.pk,
    }


def _walk(http: HttpClient, objects: dict[str, object], api_only: bool) -> dict[str, str]:
    """Every GET URL → its body, for the URLs that answered 200."""
    seen: dict[str, str] = {}
    for route, name in all_routes():
        if route.endswith("logout/") or (api_only and not route.startswith("api/")):
            continue
        for query in QUERIES:
            url = _fill(route, name, objects) + query
            r = http.get(url)
            if r.status_code == 200:
                seen[url] = _body(r)
    return seen


def _leaks(seen: dict[str, str]) -> list[tuple[str, str]]:
    return [(url, raw) for url, body in seen.items() for raw in RAW if raw in body]


@pytest.fixture
def world(tenant_a: Tenant, admin_user: User) -> dict[str, object]:
    token, _raw = api_token_create(user=tenant_a.agent, name="walk")
    objects = _objects(tenant_a, token.pk)
    objects.update(_build(tenant_a))
    return objects


@pytest.mark.parametrize("role", ROLES)
def test_no_raw_personal_data_in_any_response(
    tenant_a: Tenant, admin_user: User, world: dict[str, object], role: str
) -> None:
    user = admin_user if role == "admin" else getattr(tenant_a, role)
    pages = _walk(login(user), world, api_only=False)
    api = _walk(api_client(user), world, api_only=True)
    assert _leaks(pages) == [] and _leaks(api) == []
    # The walk saw the data, masked: it did not pass by seeing nothing.
    ticket = f"/tickets/{world['ticket']}/"
    assert ticket in pages and "139****5678" in pages[ticket], sorted(pages)
    assert "110***********002X" in pages[ticket]
    api_ticket = f"/api/v1/tickets/{world['ticket']}"
    assert "622202******7894" in api[api_ticket]
    if role in ("admin", "supervisor", "auditor"):
        report = f"/reports/issued/{world['report']}/"
        assert "请回电 139****5678" in pages[report]
        assert f"/reports/surveys/ACME/{world['month']}/" in pages
    assert len(pages) + len(api) >= 8


def test_report_data_frozen_at_issue_is_masked(world: dict[str, object]) -> None:
    from kefu.reports.models import ServiceReport

    report = ServiceReport.objects.get(pk=str(world["report"]))
    data = json.dumps(report.data, ensure_ascii=False)
    assert "139****5678" in data
    assert [raw for raw in RAW if raw in data] == []


def test_a_reveal_shows_the_value_in_its_own_response_only(
    tenant_a: Tenant, world: dict[str, object]
) -> None:
    user = tenant_a.supervisor
    api = api_client(user)
    r = api.post(
        f"/api/v1/customers/{world['customer']}/reveal",
        {"field": "phones", "reason": "客户要求回电"},
        content_type="application/json",
    )
    assert r.json()["values"] == ["+86 139-1234-5678"]
    page = login(user)
    r = page.post(
        f"/tickets/{world['ticket']}/reveal/",
        {"field": "message", "message": world["message"], "reason": "核实身份"},
        headers={"HX-Request": "true"},
    )
    assert "11010519491231002X" in r.content.decode()
    # Revealing is not a mode: every other response is still masked for this user.
    assert _leaks(_walk(page, world, api_only=False)) == []
    assert _leaks(_walk(api, world, api_only=True)) == []
