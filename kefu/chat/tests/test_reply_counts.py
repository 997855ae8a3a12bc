"""The chat's first response is met when the customer's widget shows the reply, at that
instant — not when the agent sent it — and the chat's answer time is the same instant."""

from __future__ import annotations

from datetime import timedelta

from django_tasks_db.models import DBTaskResult

from kefu.accounts.models import Presence, PresenceState
from kefu.accounts.services import presence_set
from kefu.chat import routing
from kefu.chat.acks import acks_write
from kefu.chat.models import Conversation
from kefu.chat.services import (
    conversation_ack,
    conversation_agent_message,
    conversation_customer_message,
    conversation_start,
    widget_create,
)
from kefu.conftest import Tenant, login
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets.delivery import delivery_retry_due
from kefu.tickets.models import Delivery, DeliveryStatus

CHAT_POLICY = """
client: ACME
name: 在线客服协议
targets:
  - {metric: first_response, seconds: 30, calendar: cn-standard, channels: [chat]}
"""


def test_first_response_is_met_when_the_widget_acknowledges(sla_tenant: Tenant) -> None:
    sla_policy_load(text=CHAT_POLICY)
    t = sla_tenant
    widget = widget_create(client=t.client, origins=["https://shop.example"])
    monday = sh(2026, 12, 7, 10, 0, 0)
    presence_set(user=t.agent, state=PresenceState.ONLINE, at=monday)
    with frozen(monday):
        started = conversation_start(
            widget=widget, name="周女士", consent=True, notice_version=widget.notice_version
        )
    chat = Conversation.objects.get(pk=started.conversation.pk)
    routing.chat_route(at=monday)
    routing.offer_accept(conversation=chat, agent=t.agent, at=monday)
    chat.refresh_from_db()
    conversation_customer_message(conversation=chat, cid="q1", text="在吗？", at=monday)
    with frozen(sh(2026, 12, 7, 10, 0, 10)):
        reply = conversation_agent_message(conversation=chat, agent=t.agent, text="在的，请讲")
    clock = SlaClock.objects.get(ticket=chat.ticket, metric="first_response")
    assert clock.goal_seconds == 30 and clock.status == ClockStatus.RUNNING  # sent, not shown

    shown = sh(2026, 12, 7, 10, 0, 25)
    assert conversation_ack(conversation=chat, message_id=reply.pk, at=shown)
    assert not conversation_ack(conversation=chat, message_id=reply.pk, at=shown)  # once
    clock.refresh_from_db()
    chat.refresh_from_db()
    assert clock.status == ClockStatus.MET and clock.met_at == shown
    assert chat.answered_at == shown and chat.answered_by_id == t.agent.pk


def test_logging_out_makes_the_agent_offline(tenant_a: Tenant) -> None:
    presence_set(user=tenant_a.agent, state=PresenceState.ONLINE)
    browser = login(tenant_a.agent)
    browser.post("/logout/")
    assert Presence.objects.get(user=tenant_a.agent).state == PresenceState.OFFLINE


def test_an_unacknowledged_reply_is_pushed_again_by_the_sweep(sla_tenant: Tenant) -> None:
    """No task row is written per chat reply: the periodic delivery sweep pushes again what
    the widget has not acknowledged ``confirm_within`` after the reply, and a later
    acknowledgement still accepts it."""
    t = sla_tenant
    widget = widget_create(client=t.client, origins=["https://shop.example"])
    monday = sh(2026, 12, 7, 10, 0, 0)
    presence_set(user=t.agent, state=PresenceState.ONLINE, at=monday)
    with frozen(monday):
        started = conversation_start(
            widget=widget, name="周女士", consent=True, notice_version=widget.notice_version
        )
    chat = Conversation.objects.get(pk=started.conversation.pk)
    routing.chat_route(at=monday)
    routing.offer_accept(conversation=chat, agent=t.agent, at=monday)
    chat.refresh_from_db()
    tasks = DBTaskResult.objects.filter(task_path__endswith="send_delivery")
    before = tasks.count()
    reply = conversation_agent_message(conversation=chat, agent=t.agent, text="您好", at=monday)
    assert tasks.count() == before
    delivery = Delivery.objects.get(message=reply)

    delivery_retry_due(now=monday + timedelta(seconds=29))  # not yet due
    delivery.refresh_from_db()
    assert delivery.attempts == 0 and delivery.status == DeliveryStatus.QUEUED

    delivery_retry_due(now=monday + timedelta(seconds=31))  # pushed again, not yet shown
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.QUEUED
    assert delivery.reason  # "the customer's chat window has not confirmed it"

    shown = monday + timedelta(seconds=40)
    assert conversation_ack(conversation=chat, message_id=reply.pk, at=shown)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.accepted_at == shown


def test_acknowledgements_written_together_count_each_at_its_own_instant(
    sla_tenant: Tenant,
) -> None:
    """The sockets' acknowledgements are written several to a transaction
    (kefu/chat/acks.py): each reply is accepted at the instant its acknowledgement arrived,
    the chat is answered at the first, and an id that is no reply of the chat spoils
    nothing."""
    sla_policy_load(text=CHAT_POLICY)
    t = sla_tenant
    widget = widget_create(client=t.client, origins=["https://shop.example"])
    monday = sh(2026, 12, 7, 10, 0, 0)
    presence_set(user=t.agent, state=PresenceState.ONLINE, at=monday)
    with frozen(monday):
        started = conversation_start(
            widget=widget, name="周女士", consent=True, notice_version=widget.notice_version
        )
    chat = Conversation.objects.get(pk=started.conversation.pk)
    routing.chat_route(at=monday)
    routing.offer_accept(conversation=chat, agent=t.agent, at=monday)
    chat.refresh_from_db()
    question = conversation_customer_message(conversation=chat, cid="q1", text="在吗？", at=monday)
    first = conversation_agent_message(conversation=chat, agent=t.agent, text="在的", at=monday)
    second = conversation_agent_message(conversation=chat, agent=t.agent, text="请讲", at=monday)
    at1, at2 = monday + timedelta(seconds=12), monday + timedelta(seconds=14)

    accepted = acks_write(
        [
            (chat.pk, first.pk, at1),
            (chat.pk, question.message.pk, at1),  # the customer's own message: no reply
            (chat.pk, second.pk, at2),
            (chat.pk, first.pk, at2),  # twice: the first instant stays
        ]
    )

    assert accepted == 2
    deliveries = {d.message_id: d for d in Delivery.objects.filter(ticket=chat.ticket)}
    assert deliveries[first.pk].accepted_at == at1 and deliveries[second.pk].accepted_at == at2
    chat.refresh_from_db()
    assert chat.answered_at == at1 and chat.answered_by_id == t.agent.pk
    clock = SlaClock.objects.get(ticket=chat.ticket, metric="first_response")
    assert clock.status == ClockStatus.MET and clock.met_at == at1
