"""A reply on an email ticket counts once the customer's mail server took it: the SMTP
server's 250 is the instant the first-response clock is met; until then, and when it never
comes, the clock runs on."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kefu.conftest import Tenant, deliver_queued, login
from kefu.mail.models import FILE_TRANSPORT, Mailbox, OutboundMail
from kefu.mail.tests.conftest import SmtpCapture, free_port, make_mailbox
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.services import sla_sweep
from kefu.sla.tests.conftest import frozen, sh
from kefu.sla.tests.conftest import sla_tenant as sla_tenant  # the fixture
from kefu.tickets import services
from kefu.tickets.delivery import delivery_retry, delivery_retry_due, delivery_send
from kefu.tickets.models import Delivery, Message, Ticket, TicketEvent


def _email_ticket(t: Tenant, at: Any) -> Ticket:
    with frozen(at):
        return services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="厨房热水器漏水",
            channel="email",
            customer=t.customer,
            created_at=at,
        )


def _first_response(ticket: Ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric="first_response")


def _only_smtp(t: Tenant, host: str, port: int) -> Mailbox:
    Mailbox.objects.filter(client=t.client).update(active=False)
    return make_mailbox(t, "kefu-smtp@acme.example", smtp_host=host, smtp_port=port)


def test_no_mailbox_refuses_the_reply_and_saves_nothing(tenant_a: Tenant) -> None:
    Mailbox.objects.filter(client=tenant_a.client).update(active=False)
    ticket = tenant_a.ticket
    counts = (Message.objects.count(), Delivery.objects.count(), TicketEvent.objects.count())
    http = login(tenant_a.agent)
    r = http.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "您好"}, follow=True)
    assert "请在 管理 › 邮箱 中配置 SMTP" in r.content.decode()
    assert "configure SMTP under Admin › Mailboxes" in r.content.decode()
    assert (Message.objects.count(), Delivery.objects.count(), TicketEvent.objects.count()) == (
        counts
    )


def test_failing_server_keeps_the_clock_running_until_a_retry_is_accepted(
    sla_tenant: Tenant, smtp_server: SmtpCapture
) -> None:
    t = sla_tenant
    _only_smtp(t, smtp_server.host, smtp_server.port)
    ticket = _email_ticket(t, sh(2026, 11, 23, 9, 0))
    smtp_server.handler.refuse = True
    clicked = sh(2026, 11, 23, 9, 30)
    with frozen(clicked):
        message = services.ticket_reply(ticket=ticket, actor=t.agent, body="您好，请问型号？")
        assert delivery_send(delivery_id=message.delivery.pk) == "queued"
    delivery = Delivery.objects.get(message=message)
    assert delivery.attempts == 1 and "451" in delivery.reason
    assert delivery.next_attempt_at == clicked + timedelta(minutes=2)
    assert _first_response(ticket).status == ClockStatus.RUNNING

    page = login(t.agent).get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "排队中" in page and "451 4.3.0 try again later" in page
    queue = login(t.agent).get(reverse("tickets:queue"), {"undelivered": "1", "status": ""})
    assert ticket.number in queue.content.decode()

    # Second try fails too: back-off doubles.
    with frozen(clicked + timedelta(minutes=2)):
        assert delivery_retry_due() == 0
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == clicked + timedelta(minutes=2 + 4)
    assert _first_response(ticket).status == ClockStatus.RUNNING

    smtp_server.handler.refuse = False
    accepted = clicked + timedelta(minutes=6)
    with frozen(accepted):
        assert delivery_retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.accepted_at == accepted
    clock = _first_response(ticket)
    assert clock.status == ClockStatus.MET and clock.met_at == accepted  # not the click
    assert len(smtp_server.mails) == 1
    queue = login(t.agent).get(reverse("tickets:queue"), {"undelivered": "1", "status": ""})
    assert ticket.number not in queue.content.decode()


def test_refused_address_fails_at_once_breaches_when_due_and_can_be_retried(
    sla_tenant: Tenant, smtp_server: SmtpCapture
) -> None:
    t = sla_tenant
    _only_smtp(t, smtp_server.host, smtp_server.port)
    ticket = _email_ticket(t, sh(2026, 11, 23, 9, 0))
    smtp_server.handler.refuse = True
    smtp_server.handler.refusal = "550 5.1.1 mailbox unavailable"
    with frozen(sh(2026, 11, 23, 9, 30)):
        message = services.ticket_reply(ticket=ticket, actor=t.agent, body="您好")
        assert delivery_send(delivery_id=message.delivery.pk) == "failed"
    # Never accepted: the 4-hour first response breaches when due.
    sla_sweep(now=sh(2026, 11, 23, 15, 0))
    clock = _first_response(ticket)
    assert clock.status == ClockStatus.BREACHED and clock.met_at is None

    http = login(t.agent)
    page = http.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "发送失败" in page and "550 5.1.1" in page and "重新发送" in page
    delivery = Delivery.objects.get(message=message)
    r = http.post(reverse("tickets:delivery_retry", args=[delivery.pk]))
    assert r.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "queued" and delivery.attempts == 0
    smtp_server.handler.refuse = False
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    assert _first_response(ticket).status == ClockStatus.BREACHED  # the verdict stays


def test_closed_port_is_a_retryable_failure(tenant_a: Tenant) -> None:
    _only_smtp(tenant_a, "127.0.0.1", free_port())
    message = services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body="您好")
    assert delivery_send(delivery_id=message.delivery.pk) == "queued"
    delivery = Delivery.objects.get(message=message)
    assert delivery.attempts == 1 and "Connection" in delivery.reason
    assert OutboundMail.objects.get(ticket_message=message).status == "pending"
    # Not due yet: sending it again now leaves it as it is.
    assert delivery_send(delivery_id=delivery.pk) == "queued"
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_file_transport_writes_the_mail_and_is_accepted(tenant_a: Tenant, settings: Any) -> None:
    ticket = tenant_a.ticket
    message = services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="已补发。")
    assert Mailbox.objects.get(client=tenant_a.client).smtp_host == FILE_TRANSPORT
    assert "sent" in deliver_queued()
    delivery = Delivery.objects.get(message=message)
    outbound = OutboundMail.objects.get(ticket_message=message)
    assert delivery.status == "sent" and delivery.accepted_at == outbound.sent_at
    assert delivery.external_id == outbound.message_id
    path = Path(settings.KEFU_MAIL_OUTBOX) / f"{outbound.message_id}.eml"
    mail = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert mail["Message-ID"] == f"<{outbound.message_id}>"
    assert mail["To"] == "wang@acme.cn"
    assert ticket.number in str(mail["Subject"])
    page = login(tenant_a.agent).get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "已发送" in page


def test_agent_retry_is_refused_while_the_client_has_no_mailbox(tenant_a: Tenant) -> None:
    message = services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body="您好")
    Delivery.objects.filter(message=message).update(status="failed", reason="x")
    Mailbox.objects.filter(client=tenant_a.client).update(active=False)
    with pytest.raises(ValidationError, match="SMTP"):
        delivery_retry(delivery=Delivery.objects.get(message=message), actor=tenant_a.agent)


def test_a_send_left_unfinished_by_a_dead_worker_is_taken_again(tenant_a: Tenant) -> None:
    message = services.ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body="您好")
    now = message.created_at
    Delivery.objects.filter(message=message).update(
        status="sending", next_attempt_at=now - timedelta(minutes=5)
    )
    with frozen(now):
        assert delivery_retry_due() == 0  # another worker may still be at it
    with frozen(now + timedelta(minutes=6)):
        assert delivery_retry_due() == 1
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "sent"
    assert OutboundMail.objects.get(ticket_message=message).status == "sent"
