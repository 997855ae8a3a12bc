"""One set of limits for pages, API and channels (kefu/tickets/validation.py): what the API
refuses, the page refuses too, and the other way round."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kefu.conftest import Tenant, api_client, login
from kefu.tickets import services
from kefu.tickets.models import Customer, Message, Ticket
from kefu.tickets.validation import MAX_BODY, MAX_TAG, MAX_TAGS

pytestmark = pytest.mark.django_db


def _messages(t: Tenant) -> int:
    return Message.objects.filter(ticket=t.ticket).count()


def test_page_refuses_a_note_or_reply_over_the_api_limit(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    before = _messages(tenant_a)
    for action in ("note", "reply"):
        page = http.post(
            f"/tickets/{tenant_a.ticket.pk}/{action}/", {"body": "a" * 2_000_000}, follow=True
        )
        assert page.status_code == 200
        assert "内容过长" in page.content.decode()
    assert _messages(tenant_a) == before
    ok = http.post(f"/tickets/{tenant_a.ticket.pk}/note/", {"body": "长" * MAX_BODY})
    assert ok.status_code == 302 and _messages(tenant_a) == before + 1


def test_page_refuses_more_tags_than_the_api(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    form = {"kind": "inquiry", "priority": "normal"}
    many = ",".join(f"分类{i}" for i in range(5000))
    page = http.post(f"/tickets/{tenant_a.ticket.pk}/update/", {**form, "tags": many}, follow=True)
    assert "分类最多 20 个" in page.content.decode()
    long = "长" * (MAX_TAG + 1)
    page = http.post(f"/tickets/{tenant_a.ticket.pk}/update/", {**form, "tags": long}, follow=True)
    assert "每个分类最多" in page.content.decode()
    assert not tenant_a.ticket.tags.exists()
    twenty = ",".join(f"分类{i}" for i in range(MAX_TAGS))
    http.post(f"/tickets/{tenant_a.ticket.pk}/update/", {**form, "tags": twenty})
    assert tenant_a.ticket.tags.count() == MAX_TAGS


def test_api_refuses_what_the_page_refuses(tenant_a: Tenant) -> None:
    api = api_client(tenant_a.agent)
    tickets = Ticket.objects.count()
    customers = Customer.objects.count()
    bad_email = api.post(
        "/api/v1/tickets",
        {"client": "ACME", "subject": "热水器", "customer": {"email": "not-an-email"}},
        content_type="application/json",
    )
    assert bad_email.status_code == 422
    assert "email" in bad_email.json()["detail"]
    assert (Ticket.objects.count(), Customer.objects.count()) == (tickets, customers)
    customer = api.post(
        "/api/v1/customers",
        {"client": "ACME", "name": "李四", "email": "not-an-email"},
        content_type="application/json",
    )
    assert customer.status_code == 422 and Customer.objects.count() == customers
    long_tag = api.patch(
        f"/api/v1/tickets/{tenant_a.ticket.pk}",
        {"tags": ["长" * (MAX_TAG + 1)]},
        content_type="application/json",
    )
    assert long_tag.status_code == 422 and not tenant_a.ticket.tags.exists()
    good = api.post(
        "/api/v1/tickets",
        {"client": "ACME", "subject": "热水器", "customer": {"email": "li.si@example.com"}},
        content_type="application/json",
    )
    assert good.status_code == 201


def test_page_new_ticket_and_escalation_meet_the_same_limits(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    tickets = Ticket.objects.count()
    page = http.post(
        "/tickets/new/",
        {
            "client": tenant_a.client.pk,
            "channel": "phone",
            "kind": "inquiry",
            "priority": "normal",
            "subject": "热水器",
            "body": "长" * (MAX_BODY + 1),
        },
    )
    assert page.status_code == 200 and "内容过长" in page.content.decode()
    assert Ticket.objects.count() == tickets


def test_channels_meet_the_same_limits(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError) as too_long:
        services.ticket_add_customer_message(ticket=tenant_a.ticket, body="长" * (MAX_BODY + 1))
    assert "body" in too_long.value.message_dict
    with pytest.raises(ValidationError) as bad_email:
        services.ticket_create(
            client=tenant_a.client,
            subject="来信",
            body="你好",
            channel="email",
            customer=services.CustomerData(email="not-an-email"),
        )
    assert "email" in bad_email.value.message_dict
    with pytest.raises(ValidationError):
        services.escalation_answer(
            escalation=tenant_a.escalation,
            actor=tenant_a.department_user,
            answer="长" * (MAX_BODY + 1),
        )
