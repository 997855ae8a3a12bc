"""Who is offered a waiting chat: presence, capacity, least busy first, round robin,
pass-on after a decline or a timeout, transfer, take-over, and giving up on the queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.accounts.models import PresenceState, Role, Team, User
from kefu.accounts.services import presence_set
from kefu.chat import routing
from kefu.chat.models import ChatWidget, Conversation, ConversationStatus
from kefu.chat.services import conversation_start, widget_create
from kefu.conftest import Tenant, _user
from kefu.tickets.models import Message

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.get_current_timezone())


def _agent(t: Tenant, name: str, *, max_chats: int = 3, state: str = "online") -> User:
    user = _user(name, Role.AGENT)
    user.clients.add(t.client)
    presence_set(user=user, state=state, max_chats=max_chats, at=T0)
    return user


def _widget(t: Tenant, **extra: object) -> ChatWidget:
    widget = widget_create(client=t.client, origins=["https://shop.example"])
    if extra:
        ChatWidget.objects.filter(pk=widget.pk).update(**extra)
        widget.refresh_from_db()
    return widget


def _chat(widget: ChatWidget, at: datetime = T0, name: str = "访客") -> Conversation:
    started = conversation_start(
        widget=widget, name=name, consent=True, notice_version=widget.notice_version, at=at
    )
    return Conversation.objects.get(pk=started.conversation.pk)


def _offered(conversation: Conversation) -> int | None:
    conversation.refresh_from_db()
    return conversation.offered_to_id


@pytest.fixture
def widget(tenant_a: Tenant) -> ChatWidget:
    # The tenant's own agent is offline: only the agents a test makes are online.
    return _widget(tenant_a)


def test_nobody_online_nobody_offered_then_the_first_agent_online_gets_it(
    tenant_a: Tenant, widget: ChatWidget
) -> None:
    chat = _chat(widget)
    assert routing.chat_route(at=T0) == []
    away = _agent(tenant_a, "away_agent", state=PresenceState.AWAY)
    assert routing.chat_route(at=T0) == []
    presence_set(user=away, state=PresenceState.ONLINE, at=T0)
    assert routing.chat_route(at=T0) == [chat.pk]
    assert _offered(chat) == away.pk
    assert chat.offer_expires_at == T0 + timedelta(seconds=widget.offer_seconds)


def test_an_agent_of_another_client_is_never_offered_the_chat(
    tenant_a: Tenant, tenant_b: Tenant, widget: ChatWidget
) -> None:
    _agent(tenant_b, "b_only")
    chat = _chat(widget)
    assert routing.chat_route(at=T0) == []
    assert _offered(chat) is None


def test_capacity_counts_chats_in_progress_and_open_offers(
    tenant_a: Tenant, widget: ChatWidget
) -> None:
    one = _agent(tenant_a, "one_slot", max_chats=1)
    first, second = _chat(widget, T0), _chat(widget, T0 + timedelta(seconds=1))
    routing.chat_route(at=T0)
    assert _offered(first) == one.pk and _offered(second) is None  # oldest first
    routing.offer_accept(conversation=first, agent=one, at=T0)
    routing.chat_route(at=T0)
    assert _offered(second) is None  # still full
    other = _agent(tenant_a, "two_slots", max_chats=2)
    routing.chat_route(at=T0)
    assert _offered(second) == other.pk


def test_least_busy_first_and_round_robin_on_ties(tenant_a: Tenant, widget: ChatWidget) -> None:
    busy = _agent(tenant_a, "busy")
    idle = _agent(tenant_a, "idle")
    first = _chat(widget)
    routing.chat_route(at=T0)
    taker = _offered(first)
    assert taker in (busy.pk, idle.pk)
    routing.offer_accept(conversation=first, agent=User.objects.get(pk=taker), at=T0)
    second = _chat(widget, T0 + timedelta(seconds=5))
    routing.chat_route(at=T0 + timedelta(seconds=5))
    other = idle.pk if taker == busy.pk else busy.pk
    assert _offered(second) == other  # the one holding fewer chats
    routing.offer_accept(conversation=second, agent=User.objects.get(pk=other), at=T0)
    # Both hold one chat now: the tie goes to whoever was offered a chat longest ago.
    third = _chat(widget, T0 + timedelta(seconds=10))
    routing.chat_route(at=T0 + timedelta(seconds=10))
    assert _offered(third) == taker


def test_a_declined_or_expired_offer_passes_on_and_comes_back_when_nobody_else_can(
    tenant_a: Tenant, widget: ChatWidget
) -> None:
    a = _agent(tenant_a, "agent_a")
    b = _agent(tenant_a, "agent_b")
    chat = _chat(widget)
    routing.chat_route(at=T0)
    first = a if _offered(chat) == a.pk else b
    second = b if first == a else a
    assert routing.offer_pass(conversation=chat, agent=first, at=T0)
    routing.chat_route(at=T0)
    assert _offered(chat) == second.pk
    # The second lets it time out: the sweep passes it on; only the first is left.
    later = T0 + timedelta(seconds=widget.offer_seconds + 1)
    assert routing.offers_expire(at=later) == 1
    assert _offered(chat) in (first.pk, second.pk)
    chat.refresh_from_db()
    assert sorted(chat.passed) == sorted([a.pk, b.pk])
    # A late accept of an offer that moved on is refused.
    late = second if chat.offered_to_id == first.pk else first
    with pytest.raises(ValidationError):
        routing.offer_accept(conversation=chat, agent=late, at=later)


def test_a_widget_team_limits_who_is_offered(tenant_a: Tenant) -> None:
    team = Team.objects.create(client=tenant_a.client, name="售前组")
    outsider = _agent(tenant_a, "not_in_team")
    member = _agent(tenant_a, "in_team", max_chats=1)
    team.members.add(member)
    chat = _chat(_widget(tenant_a, team=team))
    routing.chat_route(at=T0)
    assert _offered(chat) == member.pk
    routing.offer_accept(conversation=chat, agent=member, at=T0)
    waiting = _chat(ChatWidget.objects.get(team=team), T0 + timedelta(seconds=1))
    routing.chat_route(at=T0 + timedelta(seconds=1))
    assert _offered(waiting) is None  # the team is full; the outsider is not asked
    assert outsider.pk not in (chat.agent_id, waiting.offered_to_id)


def test_transfer_to_an_agent_with_a_note_and_to_a_team(
    tenant_a: Tenant, widget: ChatWidget, django_capture_on_commit_callbacks: Any
) -> None:
    first = _agent(tenant_a, "first_agent")
    chat = _chat(widget)
    routing.chat_route(at=T0)
    routing.offer_accept(conversation=chat, agent=first, at=T0)
    second = _agent(tenant_a, "second_agent")
    routing.conversation_transfer(
        conversation=chat, actor=first, to_agent=second, note="客户要开增值税发票", at=T0
    )
    chat.refresh_from_db()
    assert chat.status == ConversationStatus.WAITING and chat.agent_id is None
    assert chat.offered_to_id == second.pk
    note = Message.objects.filter(ticket=chat.ticket, direction="note").latest("pk")
    assert "客户要开增值税发票" in note.body_text and str(second) in note.body_text
    routing.offer_accept(conversation=chat, agent=second, at=T0)
    chat.refresh_from_db()
    assert chat.agent_id == second.pk and chat.ticket is not None
    assert chat.ticket.assignee_id == second.pk

    team = Team.objects.create(client=tenant_a.client, name="售后组")
    member = _agent(tenant_a, "after_sales")
    team.members.add(member)
    with django_capture_on_commit_callbacks(execute=True):
        routing.conversation_transfer(conversation=chat, actor=second, to_team=team, at=T0)
    chat.refresh_from_db()
    assert chat.offered_to_id == member.pk  # routed within the team only, once committed
    # Handed on: the chat is no longer the second agent's to transfer.
    with pytest.raises(PermissionDenied):
        routing.conversation_transfer(conversation=chat, actor=second, to_team=team, at=T0)


def test_a_supervisor_takes_a_chat_over(tenant_a: Tenant, widget: ChatWidget) -> None:
    agent = _agent(tenant_a, "handling")
    chat = _chat(widget)
    routing.chat_route(at=T0)
    routing.offer_accept(conversation=chat, agent=agent, at=T0)
    routing.conversation_take_over(conversation=chat, supervisor=tenant_a.supervisor, at=T0)
    chat.refresh_from_db()
    assert chat.agent_id == tenant_a.supervisor.pk and chat.status == ConversationStatus.ACTIVE
    with pytest.raises(PermissionDenied, match="主管"):
        routing.conversation_take_over(conversation=chat, supervisor=agent, at=T0)


def test_waiting_past_the_limit_turns_the_chat_into_a_left_message(
    tenant_a: Tenant, widget: ChatWidget
) -> None:
    _agent(tenant_a, "slow", state=PresenceState.AWAY)
    chat = _chat(widget)
    assert routing.offers_expire(at=T0 + timedelta(seconds=widget.max_wait_seconds - 1)) == 0
    assert routing.offers_expire(at=T0 + timedelta(seconds=widget.max_wait_seconds)) == 1
    chat.refresh_from_db()
    assert chat.status == ConversationStatus.LEFT_MESSAGE
    assert chat.ticket is not None and chat.ticket.status == "new"  # answered from the queue
