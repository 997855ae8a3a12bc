"""Against a real IMAP server (dovecot) and a real SMTP server (aiosmtpd, in process): the
mailbox is polled, messages are flagged only after they are stored, and an agent's reply
from the workspace reaches the customer threaded so that their answer lands on the same
ticket."""

from __future__ import annotations

import itertools
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from kefu.conftest import Tenant, login
from kefu.mail import imap as imap_module
from kefu.mail.imap import DONE_FLAG, mail_poll_all, mailbox_poll
from kefu.mail.models import InboundMail, Mailbox, OutboundMail
from kefu.mail.outbound import outbound_retry_due
from kefu.mail.tests.conftest import IMAP_PASSWORD, Dovecot, SmtpCapture, eml, make_mailbox
from kefu.tickets.delivery import delivery_retry_due, delivery_send
from kefu.tickets.models import Ticket

FIXTURES = Path(__file__).parent / "fixtures"
_numbers = itertools.count(1)


@pytest.fixture
def imap_mailbox(tenant_a: Tenant, dovecot: Dovecot) -> Mailbox:
    address = f"kefu{next(_numbers)}@acme.example"
    return make_mailbox(
        tenant_a,
        address,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=address,
        imap_password=IMAP_PASSWORD,
    )


def _flags(dovecot: Dovecot, address: str, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
    client = dovecot.client(address)
    try:
        client.select_folder(folder)
        data = client.fetch(client.search(["ALL"]), ["FLAGS"])
        return [tuple(v[b"FLAGS"]) for _uid, v in sorted(data.items())]
    finally:
        client.logout()


def test_poll_turns_every_fixture_into_kefu_records(
    imap_mailbox: Mailbox, dovecot: Dovecot
) -> None:
    files = sorted(FIXTURES.glob("*.eml"))
    for path in files:
        dovecot.append(imap_mailbox.address, path.read_bytes())
    (result,) = mail_poll_all()
    assert result.ok, result.error
    assert sum(result.results.values()) == len(files)
    assert InboundMail.objects.filter(mailbox=imap_mailbox).count() == len(files)
    # Stored exactly as the server delivered them.
    stored = {bytes(m.raw) for m in InboundMail.objects.filter(mailbox=imap_mailbox)}
    assert stored == {p.read_bytes() for p in files}
    assert all(DONE_FLAG in f and b"\\Seen" in f for f in _flags(dovecot, imap_mailbox.address))
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_poll_ok is True
    # Polling again finds nothing new.
    assert sum(mailbox_poll(mailbox=imap_mailbox).results.values()) == 0


def test_crash_after_commit_before_flag_reingests_as_duplicate(
    imap_mailbox: Mailbox, dovecot: Dovecot
) -> None:
    dovecot.append(imap_mailbox.address, eml(to=imap_mailbox.address))
    with mock.patch.object(imap_module, "_mark_done", side_effect=ConnectionError("cut")):
        failed = mailbox_poll(mailbox=imap_mailbox)
    assert not failed.ok and failed.results["created"] == 1
    assert _flags(dovecot, imap_mailbox.address) == [()]
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_poll_ok is False and "cut" in imap_mailbox.last_poll_error
    retried = mailbox_poll(mailbox=imap_mailbox)
    assert dict(retried.results) == {"duplicate": 1}
    assert DONE_FLAG in _flags(dovecot, imap_mailbox.address)[0]
    assert (
        Ticket.objects.filter(client=imap_mailbox.client, subject="咨询：订单没有收到").count() == 1
    )


def test_processed_messages_move_to_the_processed_folder(
    imap_mailbox: Mailbox, dovecot: Dovecot
) -> None:
    imap_mailbox.imap_processed_folder = "Processed"
    imap_mailbox.save()
    dovecot.append(imap_mailbox.address, eml(to=imap_mailbox.address))
    assert mailbox_poll(mailbox=imap_mailbox).ok
    assert _flags(dovecot, imap_mailbox.address) == []
    assert len(_flags(dovecot, imap_mailbox.address, "Processed")) == 1


def test_unreachable_server_is_reported_on_the_mailbox(tenant_a: Tenant) -> None:
    from kefu.mail.tests.conftest import free_port

    mailbox = make_mailbox(
        tenant_a, "down@acme.example", imap_host="127.0.0.1", imap_port=free_port()
    )
    result = mailbox_poll(mailbox=mailbox)
    assert not result.ok
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is False and mailbox.last_poll_error


def test_agent_reply_reaches_the_customer_threaded_and_their_answer_lands_on_the_ticket(
    imap_mailbox: Mailbox, dovecot: Dovecot, smtp_server: SmtpCapture, tenant_a: Tenant
) -> None:
    imap_mailbox.smtp_host, imap_mailbox.smtp_port = smtp_server.host, smtp_server.port
    imap_mailbox.save()
    dovecot.append(
        imap_mailbox.address,
        eml(to=imap_mailbox.address, message_id="<first@customer.example>"),
    )
    assert mailbox_poll(mailbox=imap_mailbox).results["created"] == 1
    ticket = Ticket.objects.get(client=tenant_a.client, subject="咨询：订单没有收到")

    http = login(tenant_a.agent)
    r = http.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "您好，订单已补发。"})
    assert r.status_code in (200, 302)
    outbound = OutboundMail.objects.get(ticket=ticket, kind="reply")
    assert outbound.ticket_message is not None
    assert delivery_send(delivery_id=outbound.ticket_message.delivery.pk) == "sent"

    (sent,) = smtp_server.mails
    mail = sent.message
    assert sent.rcpt_tos == ["zhang.san@example.cn"]
    assert imap_mailbox.address in mail["From"]
    assert mail["Subject"].strip() == f"Re: 咨询：订单没有收到 [{ticket.number}]"
    assert mail["In-Reply-To"] == "<first@customer.example>"
    assert "<first@customer.example>" in mail["References"]
    assert mail["Message-ID"] == f"<{outbound.message_id}>"
    assert mail["Message-ID"].endswith("@acme.example>")
    text = mail.get_body()
    assert text is not None and text.get_content().strip() == "您好，订单已补发。"

    # The customer answers from a client that drops the ticket number from the subject:
    # the headers alone carry the thread.
    answer = eml(
        to=imap_mailbox.address,
        subject="Re: 咨询",
        body="收到，谢谢！",
        message_id="<second@customer.example>",
        in_reply_to=mail["Message-ID"],
        references=f"{mail['References']} {mail['Message-ID']}",
    )
    dovecot.append(imap_mailbox.address, answer)
    assert mailbox_poll(mailbox=imap_mailbox).results["appended"] == 1
    bodies = [m.body_text.strip() for m in ticket.messages.order_by("created_at", "id")]
    assert bodies[-1] == "收到，谢谢！"
    assert len(bodies) == 3


def test_smtp_refusal_is_retried_until_sent(tenant_a: Tenant, smtp_server: SmtpCapture) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from kefu.tickets.services import ticket_reply

    Mailbox.objects.filter(client=tenant_a.client).update(active=False)  # the file one
    mailbox = make_mailbox(
        tenant_a, "retry@acme.example", smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    message = ticket_reply(ticket=tenant_a.ticket, actor=tenant_a.agent, body="第二次回复")
    outbound = OutboundMail.objects.get(ticket_message=message)
    assert outbound.mailbox == mailbox
    smtp_server.handler.refuse = True
    assert delivery_send(delivery_id=message.delivery.pk) == "queued"
    outbound.refresh_from_db()
    assert outbound.attempts == 1 and "451" in outbound.last_error
    message.delivery.refresh_from_db()
    assert message.delivery.attempts == 1 and "451" in message.delivery.reason
    smtp_server.handler.refuse = False
    # The reply's mail is retried by its delivery alone.
    assert outbound_retry_due(now=timezone.now() + timedelta(minutes=5)) == 0
    assert delivery_retry_due(now=timezone.now()) == 0  # not due yet
    assert delivery_retry_due(now=timezone.now() + timedelta(minutes=5)) == 1
    assert len(smtp_server.mails) == 1
    outbound.refresh_from_db()
    assert outbound.status == "sent"
