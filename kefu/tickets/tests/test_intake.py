"""The one way in (kefu.tickets.intake): a channel's message makes a ticket or joins one,
whole — words, sanitised HTML, files, the channel's ids — and a retried delivery never
makes a second message."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction

from kefu.calendars.services import calendar_load, statutory_sync
from kefu.conftest import Tenant, api_client
from kefu.sla.policies import sla_policy_load
from kefu.tickets import intake, services
from kefu.tickets.intake import Incoming, ticket_intake
from kefu.tickets.models import Attachment, Message, Status, Ticket

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SH = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
AT = datetime(2026, 10, 12, 10, 0, tzinfo=SH)  # a Monday, inside service hours


@pytest.fixture
def with_policy(tenant_a: Tenant) -> Tenant:
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
    statutory_sync(years=[2026])
    sla_policy_load(
        text="client: ACME\nname: 测试协议\ntargets:\n"
        "  - {metric: first_response, minutes: 30, calendar: cn-standard}\n"
        "  - {metric: resolution, minutes: 960, calendar: cn-standard}\n"
    )
    return tenant_a


def _wechat(msg_id: str, text: str = "空调漏水了", **extra: object) -> Incoming:
    return Incoming(
        text=text,
        author_name="王小明",
        channel_ids={"msg_id": msg_id, "account": "gh_acme"},
        at=AT,
        **extra,  # type: ignore[arg-type]
    )


def test_a_message_makes_a_ticket_whole_with_its_clocks(with_policy: Tenant) -> None:
    taken = ticket_intake(
        client=with_policy.client,
        channel="wechat",
        subject="空调漏水",
        message=_wechat(
            "m-1",
            html='<p>见图</p><script>alert("x")</script>',
            attachments=[ContentFile(PNG, name="../漏水.png")],
        ),
        customer=services.CustomerData(name="王小明", phone="13900001111"),
    )
    assert taken.created and not taken.duplicate
    ticket = Ticket.objects.get(pk=taken.ticket.pk)
    assert ticket.number.startswith("KF-2026-") and ticket.channel == "wechat"
    assert ticket.created_at == AT and ticket.customer is not None
    message = Message.objects.get(pk=taken.message.pk if taken.message else 0)
    assert message.body_text == "空调漏水了" and "script" not in message.body_html
    assert message.channel_ids == {"msg_id": "m-1", "account": "gh_acme", "channel": "wechat"}
    (picture,) = Attachment.objects.filter(message=message)
    assert (picture.filename, picture.content_type) == ("漏水.png", "image/png")
    assert ".." not in picture.file.name and picture.file.read() == PNG
    assert sorted(c.metric for c in taken.clocks) == ["first_response", "resolution"]
    assert ticket.sla_due_at == min(c.due_at for c in taken.clocks if c.due_at)


def test_a_retried_delivery_is_the_same_message(tenant_a: Tenant) -> None:
    first = ticket_intake(
        client=tenant_a.client, channel="wechat", subject="漏水", message=_wechat("m-1")
    )
    tickets, messages = Ticket.objects.count(), Message.objects.count()
    # The ids in another order are the same ids.
    retried = ticket_intake(
        client=tenant_a.client,
        channel="wechat",
        subject="漏水",
        message=Incoming(text="空调漏水了", channel_ids={"account": "gh_acme", "msg_id": "m-1"}),
    )
    assert retried.duplicate and not retried.created
    assert retried.ticket.pk == first.ticket.pk
    assert retried.message is not None and first.message is not None
    assert retried.message.pk == first.message.pk
    assert (Ticket.objects.count(), Message.objects.count()) == (tickets, messages)
    # A follow-up on the ticket is recognised the same way.
    follow = ticket_intake(
        client=tenant_a.client, channel="wechat", ticket=first.ticket, message=_wechat("m-2")
    )
    again = ticket_intake(
        client=tenant_a.client, channel="wechat", ticket=first.ticket, message=_wechat("m-2")
    )
    assert not follow.duplicate and again.duplicate
    assert again.message is not None and follow.message is not None
    assert again.message.pk == follow.message.pk
    assert Message.objects.filter(ticket=first.ticket).count() == 2


def test_the_same_ids_elsewhere_are_another_message(tenant_a: Tenant, tenant_b: Tenant) -> None:
    ticket_intake(client=tenant_a.client, channel="wechat", subject="漏水", message=_wechat("m-1"))
    on_chat = ticket_intake(
        client=tenant_a.client, channel="chat", subject="漏水", message=_wechat("m-1")
    )
    for_b = ticket_intake(
        client=tenant_b.client, channel="wechat", subject="漏水", message=_wechat("m-1")
    )
    assert on_chat.created and for_b.created
    assert for_b.ticket.client_id == tenant_b.client.pk


def test_a_delivery_racing_its_retry_makes_one_message(tenant_a: Tenant) -> None:
    """The retry's look-up ran before the first delivery committed: its insert meets the
    unique key, and it gets the first one's message; the caller's transaction goes on."""
    first = ticket_intake(
        client=tenant_a.client, channel="wechat", subject="漏水", message=_wechat("m-1")
    )
    tickets = Ticket.objects.count()
    real = intake._known
    looked: list[object] = []

    def late(client: Any, ids: Any) -> Message | None:
        looked.append(ids)
        return None if len(looked) == 1 else real(client, ids)

    with transaction.atomic(), mock.patch.object(intake, "_known", side_effect=late):
        retried = ticket_intake(
            client=tenant_a.client, channel="wechat", subject="漏水", message=_wechat("m-1")
        )
        assert Ticket.objects.count() == tickets
    assert retried.duplicate and retried.ticket.pk == first.ticket.pk


def test_a_follow_up_reopens_the_ticket_with_its_files(tenant_a: Tenant) -> None:
    ticket = tenant_a.ticket
    services.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.RESOLVED)
    taken = ticket_intake(
        client=tenant_a.client,
        channel="email",
        ticket=ticket,
        message=Incoming(text="还是漏水", attachments=[ContentFile(PNG, name="照片.png")]),
    )
    assert not taken.created and taken.message is not None
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert [a.filename for a in taken.message.attachments.all()] == ["照片.png"]


def test_a_refused_file_refuses_the_message_and_writes_nothing(tenant_a: Tenant) -> None:
    tickets, messages = Ticket.objects.count(), Message.objects.count()
    with pytest.raises(ValidationError, match="程序或脚本"):
        ticket_intake(
            client=tenant_a.client,
            channel="portal",
            subject="附件",
            message=Incoming(text="见附件", attachments=[ContentFile(EXE, name="发票.pdf")]),
        )
    with pytest.raises(ValidationError, match="程序或脚本"):
        ticket_intake(
            client=tenant_a.client,
            channel="portal",
            ticket=tenant_a.ticket,
            message=Incoming(text="见附件", attachments=[ContentFile(EXE, name="发票.pdf")]),
        )
    assert (Ticket.objects.count(), Message.objects.count()) == (tickets, messages)


def test_a_message_for_another_clients_ticket_is_refused(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with pytest.raises(ValidationError):
        ticket_intake(
            client=tenant_a.client,
            channel="wechat",
            ticket=tenant_b.ticket,
            message=_wechat("m-9"),
        )
    assert not Message.objects.filter(ticket=tenant_b.ticket, body_text="空调漏水了").exists()


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_message_at_once_make_one_ticket(tenant_a: Tenant) -> None:
    """Both look the message up before either has committed; the database's unique key
    lets one through, and the other gets its ticket and message back."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two concurrent writers (CI runs it)")
    real = intake._known
    both_looked = threading.Barrier(2, timeout=10)
    results: list[intake.IntakeResult] = []
    errors: list[BaseException] = []

    first_look = threading.local()

    def looked_up(client: Any, ids: Any) -> Message | None:
        found = real(client, ids)
        if not getattr(first_look, "done", False):
            first_look.done = True
            both_looked.wait()
        return found

    def deliver() -> None:
        try:
            with transaction.atomic():
                results.append(
                    ticket_intake(
                        client=tenant_a.client,
                        channel="wechat",
                        subject="漏水",
                        message=_wechat("m-1"),
                    )
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with mock.patch.object(intake, "_known", side_effect=looked_up):
        threads = [threading.Thread(target=deliver, name=f"delivery-{i}") for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors
    assert sorted(r.duplicate for r in results) == [False, True]
    assert len({r.ticket.pk for r in results}) == 1
    assert Message.objects.filter(channel_ids__msg_id="m-1").count() == 1
    assert Ticket.objects.filter(client=tenant_a.client, subject="漏水").count() == 1


def test_an_integration_retrying_its_request_gets_the_first_answer(tenant_a: Tenant) -> None:
    http = api_client(tenant_a.agent)
    body = {
        "client": "ACME",
        "subject": "热水器不出热水",
        "body": "昨天开始不出热水",
        "channel": "wechat",
        "channel_ids": {"msg_id": "w-77"},
    }
    first = http.post("/api/v1/tickets", body, content_type="application/json")
    again = http.post("/api/v1/tickets", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    path = f"/api/v1/tickets/{first.json()['id']}/messages"
    follow = {"direction": "in", "body": "还是不行", "channel_ids": {"msg_id": "w-78"}}
    one = http.post(path, follow, content_type="application/json")
    two = http.post(path, follow, content_type="application/json")
    assert (one.status_code, two.status_code) == (201, 200)
    assert one.json()["id"] == two.json()["id"]
    assert Message.objects.filter(ticket_id=first.json()["id"]).count() == 2
