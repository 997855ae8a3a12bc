"""The LMTP/SMTP listener a mail server delivers to: 250 only once the message is stored."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import DatabaseError

from kefu.conftest import Tenant
from kefu.mail.listener import make_listener
from kefu.mail.models import InboundMail
from kefu.mail.tests.conftest import eml, free_port, make_mailbox
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lmtp() -> Iterator[int]:
    port = free_port()
    controller = make_listener(host="127.0.0.1", port=port, lmtp=True)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_lmtp_delivery_creates_the_ticket_before_answering(tenant_a: Tenant, lmtp: int) -> None:
    make_mailbox(tenant_a, "kefu@acme.example")
    with smtplib.LMTP("127.0.0.1", lmtp) as server:
        refused = server.sendmail("zhang.san@example.cn", ["kefu@acme.example"], eml())
    assert refused == {}
    stored = InboundMail.objects.get()
    assert stored.source == "lmtp" and bytes(stored.raw) == eml()
    assert Ticket.objects.filter(client=tenant_a.client, subject="咨询：订单没有收到").exists()


def test_unknown_recipient_is_accepted_and_quarantined(tenant_a: Tenant, lmtp: int) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp) as server:
        server.sendmail(
            "x@example.cn", ["nobody@unknown.example"], eml(to="nobody@unknown.example")
        )
    stored = InboundMail.objects.get()
    assert stored.client_id is None and stored.result == "quarantined"


def test_database_failure_answers_451_so_the_server_keeps_the_mail(
    tenant_a: Tenant, lmtp: int
) -> None:
    make_mailbox(tenant_a, "kefu@acme.example")
    with (
        mock.patch("kefu.mail.listener.mail_ingest", side_effect=DatabaseError("locked")),
        smtplib.LMTP("127.0.0.1", lmtp) as server,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        server.sendmail("zhang.san@example.cn", ["kefu@acme.example"], eml())
    assert refused.value.smtp_code == 451
    assert not InboundMail.objects.exists()
