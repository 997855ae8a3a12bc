"""A phone ticket's reply is the call the agent made, logged: stored as an outbound call
linked to the ticket and the message; reached counts at the instant the customer answered,
not reached is a failed delivery and the response clock runs on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kefu.conftest import Tenant, api_client, login
from kefu.phone.models import Call, CallDirection
from kefu.sla.models import ClockStatus, SlaClock, SlaEvent
from kefu.sla.policies import sla_policy_load
from kefu.sla.services import sla_sweep
from kefu.sla.tests.conftest import frozen, sh
from kefu.sla.tests.conftest import sla_tenant as sla_tenant  # the fixture
from kefu.tickets import services
from kefu.tickets.models import Delivery, Message, Ticket, TicketEvent


def _ticket(t: Tenant, at: datetime | None = None) -> Ticket:
    return services.ticket_create(
        client=t.client,
        subject="来电咨询",
        body="空调不制冷",
        channel="phone",
        customer=t.customer,
        created_at=at,
    )


def _counts() -> tuple[int, ...]:
    return (
        Message.objects.count(),
        Delivery.objects.count(),
        TicketEvent.objects.count(),
        SlaEvent.objects.count(),
        Call.objects.count(),
    )


PHONE_POLICY = """
client: ACME
name: 热线协议
targets:
  - {metric: first_response, minutes: 60, calendar: cn-standard, channels: [phone]}
"""


def test_phone_reply_is_a_logged_call_accepted_when_answered(sla_tenant: Tenant) -> None:
    sla_policy_load(text=PHONE_POLICY)
    t = sla_tenant
    created = sh(2026, 11, 23, 9, 0)
    with frozen(created):
        ticket = _ticket(t, created)
    logged = sh(2026, 11, 23, 9, 40)
    http = login(t.agent)
    page = http.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'name="reached"' in page and 'name="talk_seconds"' in page
    with frozen(logged):
        r = http.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": "已回电，指导客户重启设备", "reached": "1", "talk_seconds": "95"},
        )
    assert r.status_code == 302
    message = Message.objects.get(ticket=ticket, direction="out")
    call = Call.objects.get(message=message)
    answered = logged - timedelta(seconds=95)
    assert call.direction == CallDirection.OUTBOUND and call.ticket == ticket
    assert call.answered_at == answered and call.talk_s == 95 and call.agent == t.agent
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "sent" and delivery.accepted_at == answered
    clock = SlaClock.objects.get(ticket=ticket, metric="first_response")
    assert clock.status == ClockStatus.MET and clock.met_at == answered


def test_phone_not_reached_fails_and_the_clock_breaches_when_due(sla_tenant: Tenant) -> None:
    sla_policy_load(text=PHONE_POLICY)
    t = sla_tenant
    created = sh(2026, 11, 23, 9, 0)
    with frozen(created):
        ticket = _ticket(t, created)
    with frozen(sh(2026, 11, 23, 9, 30)):
        message = services.ticket_reply(
            ticket=ticket,
            actor=t.agent,
            body="回电无人接听",
            channel_data={"reached": False, "talk_seconds": 0},
        )
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "failed" and "未接通" in delivery.reason
    assert Call.objects.get(message=message).answered_at is None
    clock = SlaClock.objects.get(ticket=ticket, metric="first_response")
    assert clock.status == ClockStatus.RUNNING
    assert clock.due_at is not None
    sla_sweep(now=clock.due_at + timedelta(seconds=1))
    clock.refresh_from_db()
    assert clock.status == ClockStatus.BREACHED
    page = login(t.agent).get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "发送失败" in page and "未接通 / not reached" in page
    assert "重新发送" not in page  # the agent calls again instead
    queue = login(t.agent).get(reverse("tickets:queue"), {"undelivered": "1"}).content.decode()
    assert ticket.number in queue and "回复未送达" in queue
    api = api_client(t.agent).get("/api/v1/tickets", {"undelivered": "true"}).json()
    numbers = [i["number"] for i in api["items"]]
    assert ticket.number in numbers
    assert not {i["number"] for i in api["items"]} - set(
        Ticket.objects.filter(deliveries__status__in=["queued", "failed"]).values_list(
            "number", flat=True
        )
    )


def test_phone_reply_without_the_call_is_refused(tenant_a: Tenant) -> None:
    ticket = _ticket(tenant_a)
    before = _counts()
    with pytest.raises(ValidationError, match="reached"):
        services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="您好")
    assert _counts() == before


def test_no_number_to_call_refuses_the_reply(tenant_a: Tenant) -> None:
    ticket = services.ticket_create(
        client=tenant_a.client, subject="匿名来电", body="回电", channel="phone"
    )
    before = _counts()
    with pytest.raises(ValidationError, match="no phone number"):
        services.ticket_reply(
            ticket=ticket,
            actor=tenant_a.agent,
            body="已回电",
            channel_data={"reached": True, "talk_seconds": 30},
        )
    assert _counts() == before
