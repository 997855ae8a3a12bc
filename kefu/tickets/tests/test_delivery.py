"""A reply that did not reach the customer is not a response: a channel with no transport
refuses the reply before anything is saved; a phone ticket's reply is the call the agent
logged, accepted when the customer answered."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kefu.conftest import LoopbackAdapter, Tenant, api_client, deliver_queued, login
from kefu.mail.models import Mailbox
from kefu.sla.models import ClockStatus, SlaClock, SlaEvent
from kefu.sla.policies import sla_policy_load
from kefu.sla.tests.conftest import frozen, sh
from kefu.sla.tests.conftest import sla_tenant as sla_tenant  # the fixture
from kefu.tickets import services
from kefu.tickets.channels import (
    channel_adapter,
    channel_register,
    channel_unregister,
    transport_problem,
)
from kefu.tickets.models import Delivery, Message, Ticket, TicketEvent


def _ticket(t: Tenant, channel: str, at: datetime | None = None) -> Ticket:
    return services.ticket_create(
        client=t.client,
        subject="咨询",
        body="你好",
        channel=channel,
        customer=t.customer,
        created_at=at,
    )


def _counts() -> tuple[int, ...]:
    return (
        Message.objects.count(),
        Delivery.objects.count(),
        TicketEvent.objects.count(),
        SlaEvent.objects.count(),
    )


@pytest.mark.parametrize("channel", ["chat", "wechat", "api", "email"])
def test_reply_without_transport_is_refused_and_nothing_is_saved(
    tenant_a: Tenant, channel: str
) -> None:
    Mailbox.objects.filter(client=tenant_a.client).update(active=False)
    ticket = _ticket(tenant_a, channel)
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="您好")
    text = " ".join(refused.value.messages)
    if channel == "email":
        assert "请在 管理 › 邮箱 中配置 SMTP" in text
    elif channel == "chat":
        # The chat app's transport is the customer's widget: a chat ticket typed in by an
        # agent has none to reach.
        assert "没有在线会话" in text and "no chat conversation" in text
    else:
        assert "尚未配置" in text and f"the {channel} channel" in text
    assert _counts() == before

    # The same refusal on the page (kept as a draft) and in the API (422).
    page = login(tenant_a.agent).post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "页面回复"}, follow=True
    )
    assert text in page.content.decode()
    assert "页面回复" in page.content.decode()  # the typed text is not lost
    r = api_client(tenant_a.agent).post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"direction": "out", "body": "API 回复"},
        content_type="application/json",
    )
    assert r.status_code == 422 and text in r.content.decode()
    assert _counts() == before


def test_the_page_says_what_to_configure_before_the_agent_types(tenant_a: Tenant) -> None:
    ticket = _ticket(tenant_a, "wechat")
    page = login(tenant_a.agent).get(reverse("tickets:detail", args=[ticket.pk]))
    problem = transport_problem(ticket)
    assert problem is not None and problem in page.content.decode()


def test_a_registered_adapter_takes_over_the_channel(tenant_a: Tenant) -> None:
    ticket = _ticket(tenant_a, "wechat")
    channel_register(LoopbackAdapter("wechat"))
    try:
        message = services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="您好")
        assert Delivery.objects.get(message=message).status == "queued"
        assert "sent" in deliver_queued()
        assert Delivery.objects.get(message=message).accepted_at is not None
    finally:
        channel_unregister("wechat")
    assert channel_adapter("wechat") is None


def test_resolving_with_the_reply_still_queued_meets_the_clock_on_acceptance(
    sla_tenant: Tenant,
) -> None:
    t = sla_tenant
    created = sh(2026, 11, 23, 9, 0)
    with frozen(created):
        ticket = _ticket(t, "email", created)
    with frozen(sh(2026, 11, 23, 9, 30)):
        services.ticket_reply(ticket=ticket, actor=t.agent, body="已处理", new_status="resolved")
    clock = SlaClock.objects.get(ticket=ticket, metric="first_response")
    assert clock.status == ClockStatus.RUNNING
    with frozen(sh(2026, 11, 23, 9, 31)):
        assert "sent" in deliver_queued()
    clock.refresh_from_db()
    assert clock.status == ClockStatus.MET and clock.met_at == sh(2026, 11, 23, 9, 31)


SECONDS_POLICY = """
client: ACME
name: 在线客服协议
targets:
  - {metric: first_response, seconds: 30, calendar: cn-standard, channels: [chat]}
  - {metric: resolution, minutes: 240, calendar: cn-standard}
"""


def test_a_30_second_target_is_due_30_business_seconds_later(
    sla_tenant: Tenant, loopback_chat: LoopbackAdapter
) -> None:
    sla_policy_load(text=SECONDS_POLICY)
    t = sla_tenant
    for at, due in (
        (sh(2026, 11, 23, 10, 0, 0), sh(2026, 11, 23, 10, 0, 30)),
        # 20 s before lunch, 10 s after it
        (sh(2026, 11, 23, 11, 59, 40), sh(2026, 11, 23, 13, 30, 10)),
    ):
        with frozen(at):
            ticket = _ticket(t, "chat", at)
        clock = SlaClock.objects.get(ticket=ticket, metric="first_response")
        assert clock.goal_seconds == 30 and clock.due_at == due
    assert str(clock.target).startswith("首次响应 ≤ 30 秒")
    resolution = SlaClock.objects.get(ticket=ticket, metric="resolution")
    assert resolution.goal_seconds == 4 * 3600 and resolution.target.goal_text == "4 小时"


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("{metric: first_response, calendar: cn-standard}", "seconds, minutes"),
        ("{metric: first_response, seconds: 30, minutes: 1, calendar: cn-standard}", "exactly one"),
        ("{metric: first_response, seconds: 0, calendar: cn-standard}", "seconds"),
    ],
)
def test_a_target_gives_seconds_or_minutes(sla_tenant: Tenant, target: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        sla_policy_load(text=f"client: ACME\nname: x\ntargets:\n  - {target}\n")
