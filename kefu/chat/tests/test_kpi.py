"""The chat figures of the month's KPIs on a set of chats small enough to check by hand
(October 2026, Asia/Shanghai; the client's SLA policy promises a chat first response
within 1 minute: kefu/sla/tests/conftest.py). The expected figures are worked out in the
comments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.accounts.services import presence_set
from kefu.chat import routing, services
from kefu.chat.models import ChatWidget, Conversation, ConversationStatus, EndedBy
from kefu.conftest import Tenant
from kefu.reports import kpi
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.sla.models import SlaPolicy
from kefu.sla.tests.conftest import frozen, sh, sla_tenant  # noqa: F401 (fixture)

OCTOBER = month("2026-10", "Asia/Shanghai")


def _figure(data: dict[str, Any], key: str) -> tuple[Any, Any, Any]:
    f = data["kpis"][key]
    return f["value"], f["numerator"], f["denominator"]


def _agent(t: Tenant, username: str, name: str) -> User:
    user = User.objects.create(username=username, role=Role.AGENT, display_name=name)
    user.clients.add(t.client)
    return user


def _chat(widget: ChatWidget, start: datetime, **seconds_after: Any) -> Conversation:
    """A chat that joined the queue at ``start``; instants given in seconds after it, the
    rest of the fields as is."""
    fields = {
        f"{name}_at": start + timedelta(seconds=value)
        for name, value in seconds_after.items()
        if isinstance(value, int)
    }
    rest = {k: v for k, v in seconds_after.items() if not isinstance(v, int)}
    return Conversation.objects.create(
        client=widget.client,
        widget=widget,
        token_hash="x" * 64,
        started_at=start,
        queued_at=start,
        **fields,
        **rest,
    )


@pytest.fixture
def october_chats(sla_tenant: Tenant) -> Tenant:  # noqa: F811
    t = sla_tenant
    li = _agent(t, "li.na", "李娜")
    wang = _agent(t, "wang.fang", "王芳")
    widget = ChatWidget.objects.create(
        client=t.client, privacy_notice="隐私告知", origins=["https://shop.example"]
    )
    ended = ConversationStatus.ENDED
    # A: 1 October 07:00 in Shanghai is still 30 September in UTC: October's. The customer
    # wrote at 5 s, 李娜 accepted at 30 s, her reply reached the widget at 45 s: wait 40 s.
    _chat(
        widget,
        sh(2026, 10, 1, 7, 0),
        first_customer=5,
        accepted=30,
        answered=45,
        answered_by=li,
        agent=li,
        status=ended,
    )
    # B: 王芳 greeted first (accepted 4 s, answered 10 s), the customer wrote at 20 s: the
    # wait runs from the queue, 10 s. Nobody stamped as answering: counted for the agent.
    _chat(
        widget,
        sh(2026, 10, 8, 11, 0),
        accepted=4,
        answered=10,
        first_customer=20,
        agent=wang,
        status=ended,
    )
    # C: the customer closed the chat after 3 s: a short abandon, left out.
    _chat(widget, sh(2026, 10, 9, 12, 0), ended=3, ended_by=EndedBy.CUSTOMER, status=ended)
    # D: wrote at 10 s, 李娜 accepted at 40 s but her reply never reached the widget; the
    # customer left at 60 s: abandoned.
    _chat(
        widget,
        sh(2026, 10, 10, 13, 0),
        first_customer=10,
        accepted=40,
        agent=li,
        ended=60,
        ended_by=EndedBy.CUSTOMER,
        status=ended,
    )
    # E: nobody took it within the widget's 180 s: given up to leave-message, abandoned.
    _chat(
        widget,
        sh(2026, 10, 12, 14, 0),
        first_customer=2,
        status=ConversationStatus.LEFT_MESSAGE,
    )
    # H: wrote at 2 s, accepted at 20 s, answered at 92 s: wait 90 s, over the minute.
    _chat(
        widget,
        sh(2026, 10, 20, 15, 0),
        first_customer=2,
        accepted=20,
        answered=92,
        answered_by=li,
        agent=li,
        status=ended,
    )
    # F: 1 November 00:30 in Shanghai (31 October in UTC): November's, not counted.
    _chat(
        widget,
        sh(2026, 11, 1, 0, 30),
        first_customer=0,
        accepted=900,
        answered=1000,
        answered_by=wang,
        agent=wang,
        status=ended,
    )
    # G: a message left out of hours never joined the queue: not offered.
    Conversation.objects.create(
        client=t.client,
        widget=widget,
        token_hash="y" * 64,
        started_at=sh(2026, 10, 15, 22, 0),
        first_customer_at=sh(2026, 10, 15, 22, 0),
        ended_at=sh(2026, 10, 15, 22, 0),
        status=ConversationStatus.LEFT_MESSAGE,
    )
    return t


def test_october_chat_figures(october_chats: Tenant) -> None:
    data = client_kpis(october_chats.client, OCTOBER)
    li, wang = User.objects.get(username="li.na"), User.objects.get(username="wang.fang")
    # Offered: A B C D E H. Answered: A (40 s) B (10 s) H (90 s).
    assert {k: v for k, v in data["volume"].items() if k.startswith("chats_")} == {
        "chats_offered": 6,
        "chats_answered": 3,
        "chats_abandoned": 2,
        "chats_short_abandoned": 1,
    }
    assert _figure(data, "asa_chat") == (140 / 3, 140.0, 3)
    # Accepted: A 30 s, B 4 s, D 40 s (accepted, never answered), H 20 s.
    assert _figure(data, "chat_queue_wait") == (23.5, 94.0, 4)
    fr = data["kpis"]["chat_first_response"]
    assert (fr["value"], fr["median"], fr["target_s"]) == (140 / 3, 40.0, 60)
    # Within the minute: A and B, not H.
    assert fr["within_target"] == {"value": 2 / 3, "numerator": 2, "denominator": 3}
    # Abandoned: D (60 s) and E (given up at 180 s) of the 6 offered less C (3 s).
    assert _figure(data, "chat_abandon_rate") == (0.4, 2, 5)
    # 李娜 answered A and H, 王芳 B.
    assert _figure(data, "chats_per_agent") == (1.5, 3, 2)
    assert data["chat_agents"] == [
        {
            "agent": "李娜",
            "agent_id": li.pk,
            "answered": 2,
            "first_response": {"value": 65.0, "numerator": 130.0, "denominator": 2},
        },
        {
            "agent": "王芳",
            "agent_id": wang.pk,
            "answered": 1,
            "first_response": {"value": 10.0, "numerator": 10.0, "denominator": 1},
        },
    ]


def test_without_a_chat_target_there_is_no_share(october_chats: Tenant) -> None:
    SlaPolicy.objects.filter(client=october_chats.client).update(active=False)
    fr = client_kpis(october_chats.client, OCTOBER)["kpis"]["chat_first_response"]
    assert fr["value"] == 140 / 3
    assert fr["target_s"] is None
    assert fr["within_target"]["value"] is None


def test_a_month_without_chats_shows_dashes(october_chats: Tenant) -> None:
    data = client_kpis(october_chats.client, month("2026-08", "Asia/Shanghai"))
    for key in ("asa_chat", "chat_queue_wait", "chat_abandon_rate", "chats_per_agent"):
        assert data["kpis"][key]["value"] is None, key
        assert kpi.display(data["kpis"][key]) == "—"
    assert data["kpis"]["chat_first_response"]["median"] is None
    assert data["chat_agents"] == []


def test_figures_from_chats_run_through_the_services(sla_tenant: Tenant) -> None:  # noqa: F811
    """The same figures from chats the chat services ran, each step at its own instant."""
    t = sla_tenant
    widget = services.widget_create(client=t.client, origins=["https://shop.example"])
    t0 = sh(2026, 10, 8, 10, 0)

    def start(at: datetime) -> Conversation:
        return services.conversation_start(
            widget=widget,
            name="李女士",
            consent=True,
            notice_version=widget.notice_version,
            at=at,
        ).conversation

    with frozen(t0):
        presence_set(user=t.agent, state="online", at=t0)
    answered = start(t0)
    services.conversation_customer_message(
        conversation=answered, cid="c-1", text="在吗", at=t0 + timedelta(seconds=5)
    )
    with frozen(t0 + timedelta(seconds=8)):
        routing.chat_route(conversation_id=answered.pk, at=t0 + timedelta(seconds=8))
        answered = routing.offer_accept(
            conversation=answered, agent=t.agent, at=t0 + timedelta(seconds=8)
        )
    with frozen(t0 + timedelta(seconds=20)):
        reply = services.conversation_agent_message(
            conversation=answered, agent=t.agent, text="您好", at=t0 + timedelta(seconds=20)
        )
    services.conversation_ack(
        conversation=answered, message_id=reply.pk, at=t0 + timedelta(seconds=25)
    )

    gone = start(t0 + timedelta(minutes=1))
    with frozen(t0 + timedelta(minutes=1, seconds=3)):
        services.conversation_end(
            conversation=gone, by=EndedBy.CUSTOMER, at=t0 + timedelta(minutes=1, seconds=3)
        )
    given_up = start(t0 + timedelta(minutes=2))
    with frozen(t0 + timedelta(minutes=6)):
        assert routing.queue_give_up(conversation=given_up, at=t0 + timedelta(minutes=6))

    # The agent wraps the answered chat up and resolves its ticket ten minutes after start.
    with frozen(t0 + timedelta(minutes=10)):
        services.conversation_wrap_up(conversation=answered, actor=t.agent, kind="inquiry")

    data = client_kpis(t.client, OCTOBER)
    # Wait: customer wrote at 5 s, the reply reached the widget at 25 s.
    assert _figure(data, "asa_chat") == (20.0, 20.0, 1)
    assert _figure(data, "chat_queue_wait") == (8.0, 8.0, 1)
    assert data["kpis"]["chat_first_response"]["within_target"]["value"] == 1.0
    # Offered 3; the 3 s close is a short abandon, left out; the give-up (not stamped with
    # an end) counts at the widget's 180 s limit: 1 of 2.
    assert _figure(data, "chat_abandon_rate") == (0.5, 1, 2)
    assert _figure(data, "chats_per_agent") == (1.0, 1, 1)
    # AHT (chat) from the chat's ticket: resolved at 10 min − reply accepted at 25 s.
    assert _figure(data, "aht_chat") == (575.0, 575.0, 1)
