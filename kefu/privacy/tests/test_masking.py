"""Masking shared by pages, API and reports (kefu.privacy.masking and its template filters)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from kefu.conftest import Tenant, api_client, login
from kefu.privacy import masking
from kefu.tickets import services

HTML_CASES = [
    # (stored sanitised HTML, masked HTML)
    ("<p>您好</p>", "<p>您好</p>"),
    ("<p>电话 13800138000。</p>", "<p>电话 138****8000。</p>"),
    (
        '<p><a href="tel:13800138000">13800138000</a></p>',
        '<p><a href="tel:138****8000" rel="noopener noreferrer">138****8000</a></p>',
    ),
    (
        '<p><a href="mailto:zhang@qq.com">写信</a></p>',
        '<p><a href="mailto:z***@qq.com" rel="noopener noreferrer">写信</a></p>',
    ),
    ("<p>a &lt;b&gt; &amp; 11010519491231002X</p>", "<p>a &lt;b&gt; &amp; 110***********002X</p>"),
    # Character references are read as the characters they stand for.
    ("<p>&#49;3800138000</p>", "<p>138****8000</p>"),
    # Split across elements: the message falls back to its masked plain text.
    ("<p>身份证 <b>1101051949</b>1231002X</p>", "<p>身份证 110***********002X</p>"),
    ("", ""),
]


@pytest.mark.parametrize(("stored", "expected"), HTML_CASES)
def test_html_masks_text_nodes_and_attributes(stored: str, expected: str) -> None:
    assert masking.html(stored) == expected


@pytest.mark.parametrize(
    ("author", "expected"),
    [("王小明", "王**"), ("zhang@qq.com", "z***@qq.com"), ("John Smith", "J***")],
)
def test_inbound_authors_are_masked(tenant_a: Tenant, author: str, expected: str) -> None:
    m = services.ticket_add_customer_message(ticket=tenant_a.ticket, body="x", author_name=author)
    assert masking.message_author(m) == expected


def test_agent_names_on_replies_stay(tenant_a: Tenant) -> None:
    reply = tenant_a.ticket.messages.filter(direction="out").first()
    assert reply is not None
    assert masking.message_author(reply) == reply.author_name != ""


def test_filters_mask_and_keep_escaping(tenant_a: Tenant) -> None:
    out = Template(
        "{% load privacy %}{{ body|mask_pii|linebreaksbr }}|{{ c|customer_label }}"
        "|{{ c|customer_masked:'phones'|join:',' }}|{{ c|customer_masked:'emails'|join:',' }}"
    ).render(Context({"body": "<b>电话</b>\n13800138000", "c": tenant_a.customer}))
    assert out == "&lt;b&gt;电话&lt;/b&gt;<br>138****8000|王**|138****8000|w***@acme.cn"


def test_customer_label_without_name(tenant_a: Tenant) -> None:
    c = services.customer_create(client=tenant_a.client, data=services.CustomerData(phone="1"))
    assert masking.customer_label(c) == f"#{c.pk}"
    assert masking.customer_label(None) == "—"


def test_ticket_page_and_api_show_customer_masked(tenant_a: Tenant) -> None:
    page = login(tenant_a.agent).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert "138****8000" in page and "王**" in page
    assert "13800138000" not in page and "王小明" not in page
    data = api_client(tenant_a.agent).get(f"/api/v1/customers/{tenant_a.customer.pk}").json()
    assert data["name"] == "王**"
    assert data["phones"] == ["138****8000"]
    assert data["emails"] == ["w***@acme.cn"]


def test_messages_are_masked_in_page_and_api(tenant_a: Tenant) -> None:
    services.ticket_add_customer_message(
        ticket=tenant_a.ticket,
        body="卡号 6222 0212 3456 7894",
        body_html="<p>卡号 <i>6222021234567894</i></p>",
    )
    page = login(tenant_a.supervisor).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert "卡号 622202******7894" in page
    detail = api_client(tenant_a.supervisor).get(f"/api/v1/tickets/{tenant_a.ticket.pk}").json()
    last = detail["messages"][-1]
    assert last["body_text"] == "卡号 622202******7894"
    assert last["body_html"] == "<p>卡号 <i>622202******7894</i></p>"


def test_a_customer_signing_with_their_name_is_masked_too(tenant_a: Tenant) -> None:
    """A name is no pattern, but kefu knows who wrote an inbound message: the signature of
    王小明 shows as 王**, in the page and the API alike."""
    services.ticket_add_customer_message(
        ticket=tenant_a.ticket, body="空调还是不制冷，麻烦再看看。\n\n王小明", author_name="王小明"
    )
    page = login(tenant_a.agent).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    assert "王小明" not in page and "麻烦再看看。<br><br>王**" in page.replace("\n", "")
    detail = api_client(tenant_a.agent).get(f"/api/v1/tickets/{tenant_a.ticket.pk}").json()
    assert detail["messages"][-1]["body_text"].endswith("\n\n王**")


def test_ticket_show_command_prints_masked(tenant_a: Tenant) -> None:
    from io import StringIO

    from django.core.management import call_command

    services.ticket_add_customer_message(ticket=tenant_a.ticket, body="回电 13912345678")
    out = StringIO()
    call_command("ticket", "show", tenant_a.ticket.number, "--format", "json", stdout=out)
    assert "139****5678" in out.getvalue() and "13912345678" not in out.getvalue()
    assert "13800138000" not in out.getvalue()
