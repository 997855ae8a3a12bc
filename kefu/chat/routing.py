"""Who is offered a waiting chat, and what happens to an offer.

Rules (the tests in kefu/chat/tests/test_routing.py hold them):
- A chat waits in its client's queue, oldest first. It is offered to one agent at a time:
  an agent who serves the client (and belongs to the chat's team, when the widget or a
  transfer names one), is online, and holds fewer chats than their maximum (chats in
  progress plus offers not yet answered).
- Among those, the least busy first; on a tie, whoever was offered a chat longest ago
  (round robin); then the lower user id, so the choice is repeatable.
- An agent who declines, or lets ``widget.offer_seconds`` pass, is skipped for this chat
  while anyone else can take it; when nobody else can, they are asked again.
- A chat still waiting ``widget.max_wait_seconds`` after it joined the queue stops waiting:
  the customer is told their ticket number and the next opening time, and the ticket is
  answered from the queue like any other (the chat becomes a left message).
- Capacity is checked under a lock on the agent's presence row, so two server processes
  routing at once never give an agent more chats than their maximum.

A locked read joins only relations that cannot be empty (the widget): PostgreSQL refuses to
lock the nullable side of an outer join (the ticket), so that is read after the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import PRESENCE_STALE_AFTER, Presence, PresenceState, Team, User
from kefu.accounts.roles import Perm
from kefu.chat import events
from kefu.chat.models import Conversation, ConversationStatus
from kefu.chat.selectors import agent_loads, agents_for, service_hours_open
from kefu.tickets import services as tickets

ROUTE_BATCH = 200  # waiting chats looked at per routing pass


def chat_route(
    *, client_id: int | None = None, conversation_id: int | None = None, at: datetime | None = None
) -> list[int]:
    """Offer waiting chats (one, a client's, or all) to free agents; returns the ids of the
    chats offered."""
    at = at or timezone.now()
    waiting = Conversation.objects.filter(
        status=ConversationStatus.WAITING, offered_to__isnull=True, queued_at__isnull=False
    )
    if conversation_id is not None:
        waiting = waiting.filter(pk=conversation_id)
    elif client_id is not None:
        waiting = waiting.filter(client_id=client_id)
    ids = list(waiting.order_by("queued_at", "pk").values_list("pk", flat=True)[:ROUTE_BATCH])
    return [pk for pk in ids if _offer(pk, at) is not None]


def _candidates(
    conversation: Conversation, at: datetime
) -> list[tuple[int, int, datetime | None, int]]:
    """(load, user id, last offered, max) of every online agent who could take the chat
    and has a free slot, best first."""
    users = agents_for(conversation.client_id, team_id=conversation.team_id)
    online = list(
        Presence.objects.filter(
            state=PresenceState.ONLINE, user__in=users, seen_at__gte=at - PRESENCE_STALE_AFTER
        ).values_list("user_id", "max_chats", "last_offered_at")
    )
    loads = agent_loads([uid for uid, _, _ in online])
    free = [(loads[uid], uid, last, cap) for uid, cap, last in online if loads[uid] < cap]
    oldest = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    free.sort(key=lambda c: (c[0], c[2] or oldest, c[1]))
    return free


@transaction.atomic
def _offer(conversation_id: int, at: datetime) -> int | None:
    conversation = (
        Conversation.objects.select_for_update()
        .filter(pk=conversation_id, status=ConversationStatus.WAITING, offered_to__isnull=True)
        .select_related("widget")
        .first()
    )
    if conversation is None:
        return None
    candidates = _candidates(conversation, at)
    passed = set(conversation.passed)
    fresh = [c for c in candidates if c[1] not in passed]
    for _load, user_id, _last, cap in fresh or candidates:
        presence = (
            Presence.objects.select_for_update()
            .filter(user_id=user_id, state=PresenceState.ONLINE)
            .first()
        )
        if presence is None or agent_loads([user_id])[user_id] >= cap:
            continue
        conversation.offered_to_id = user_id
        conversation.offer_expires_at = at + timedelta(seconds=conversation.widget.offer_seconds)
        conversation.save(update_fields=["offered_to", "offer_expires_at"])
        Presence.objects.filter(pk=presence.pk).update(last_offered_at=at)
        events.to_agent(
            user_id,
            "offer",
            conversation=conversation.pk,
            client=conversation.client_id,
            queued_at=conversation.queued_at.isoformat() if conversation.queued_at else None,
            expires_at=conversation.offer_expires_at.isoformat(),
            seconds=conversation.widget.offer_seconds,
        )
        events.chats_changed(conversation.client_id, conversation.pk, "offered")
        return user_id
    return None


def _display(user: User) -> str:
    return str(user)


@transaction.atomic
def offer_accept(
    *, conversation: Conversation, agent: User, at: datetime | None = None
) -> Conversation:
    """The agent takes the chat offered to them. Refused once the offer has passed on."""
    at = at or timezone.now()
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.offered_to_id != agent.pk or locked.status != ConversationStatus.WAITING:
        raise ValidationError(
            _("这个会话已不再分配给你 / This chat is no longer offered to you"), code="gone"
        )
    locked.status = ConversationStatus.ACTIVE
    locked.agent = agent
    locked.accepted_at = locked.accepted_at or at
    locked.offered_to = None
    locked.offer_expires_at = None
    locked.save(update_fields=["status", "agent", "accepted_at", "offered_to", "offer_expires_at"])
    assert locked.ticket is not None
    tickets.ticket_assign(ticket=locked.ticket, actor=None, assignee=agent)
    events.to_conversation(locked.pk, "status", status="active", agent=_display(agent))
    events.to_agent(agent.pk, "chat_assigned", conversation=locked.pk)
    events.chats_changed(locked.client_id, locked.pk, "accepted")
    return locked


@transaction.atomic
def offer_pass(*, conversation: Conversation, agent: User, at: datetime | None = None) -> bool:
    """The agent declined the offer, or let it time out: it goes to the next agent.
    Returns False when the chat was not (or no longer) offered to them."""
    at = at or timezone.now()
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.offered_to_id != agent.pk:
        return False
    locked.passed = sorted({*locked.passed, agent.pk})
    locked.offered_to = None
    locked.offer_expires_at = None
    locked.save(update_fields=["passed", "offered_to", "offer_expires_at"])
    events.to_agent(agent.pk, "offer_withdrawn", conversation=locked.pk)
    events.chats_changed(locked.client_id, locked.pk, "passed")
    transaction.on_commit(lambda: chat_route(conversation_id=locked.pk))
    return True


def offers_expire(*, at: datetime | None = None) -> int:
    """Pass on every offer whose time is up, and send chats that waited too long to leave a
    message; returns how many chats changed. The consumers do this on time for the offers
    they show; this sweep (a periodic job) covers a console that went away."""
    at = at or timezone.now()
    changed = 0
    for conversation in Conversation.objects.filter(
        offered_to__isnull=False, offer_expires_at__lte=at
    ).select_related("offered_to"):
        assert conversation.offered_to is not None
        changed += offer_pass(conversation=conversation, agent=conversation.offered_to, at=at)
    for conversation in Conversation.objects.filter(
        status=ConversationStatus.WAITING, queued_at__isnull=False
    ).select_related("widget"):
        assert conversation.queued_at is not None
        if conversation.queued_at + timedelta(seconds=conversation.widget.max_wait_seconds) <= at:
            changed += queue_give_up(conversation=conversation, at=at)
    chat_route(at=at)
    return changed


@transaction.atomic
def queue_give_up(*, conversation: Conversation, at: datetime | None = None) -> bool:
    """No agent took the chat within the widget's limit: the customer is given their ticket
    number and the next opening, and the ticket waits in the queue."""
    at = at or timezone.now()
    locked = (
        Conversation.objects.select_for_update()
        .select_related("widget")
        .filter(pk=conversation.pk, status=ConversationStatus.WAITING)
        .first()
    )
    if locked is None or locked.queued_at is None:
        return False
    if locked.queued_at + timedelta(seconds=locked.widget.max_wait_seconds) > at:
        return False
    offered = locked.offered_to_id
    locked.status = ConversationStatus.LEFT_MESSAGE
    locked.offered_to = None
    locked.offer_expires_at = None
    locked.save(update_fields=["status", "offered_to", "offer_expires_at"])
    if offered is not None:
        events.to_agent(offered, "offer_withdrawn", conversation=locked.pk)
    _open, next_open = service_hours_open(locked.client_id, at + timedelta(seconds=1))
    assert locked.ticket is not None
    events.to_conversation(
        locked.pk,
        "leave_message",
        ticket=locked.ticket.number,
        next_open=next_open.isoformat() if next_open else None,
    )
    events.chats_changed(locked.client_id, locked.pk, "gave_up")
    return True


@transaction.atomic
def conversation_transfer(
    *,
    conversation: Conversation,
    actor: User,
    to_agent: User | None = None,
    to_team: Team | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Conversation:
    """Hand the chat to another agent (offered to them first) or to a team (routed among
    its members), with an internal note on the ticket for whoever takes it."""
    at = at or timezone.now()
    locked = (
        Conversation.objects.select_for_update()
        .select_related("widget")
        .get(pk=conversation.pk)
    )
    if locked.agent_id != actor.pk and not actor.has_kefu_perm(Perm.CHAT_SUPERVISE):
        raise PermissionDenied(_("这个会话不由你接待 / You are not the agent of this chat"))
    if locked.status != ConversationStatus.ACTIVE:
        raise ValidationError(
            _("只能转接进行中的会话 / Only a chat in progress can be transferred")
        )
    if (to_agent is None) == (to_team is None):
        raise ValidationError(_("请选择一位坐席或一个坐席组 / Choose one agent or one team"))
    if to_team is not None and to_team.client_id != locked.client_id:
        raise ValidationError(_("坐席组不属于该甲方 / The team belongs to another client"))
    if to_agent is not None:
        if to_agent.pk == locked.agent_id:
            raise ValidationError(_("会话已由该坐席接待 / That agent already has this chat"))
        if not agents_for(locked.client_id).filter(pk=to_agent.pk).exists():
            raise ValidationError(_("该坐席不负责这个甲方 / That agent does not serve this client"))
    previous = locked.agent_id
    assert locked.ticket is not None
    target = str(to_agent) if to_agent is not None else str(to_team)
    tickets.ticket_add_note(
        ticket=locked.ticket,
        actor=actor,
        body=_("在线会话转接给 %(t)s：%(n)s / Chat transferred to %(t)s: %(n)s")
        % {"t": target, "n": note.strip() or "—"},
    )
    locked.status = ConversationStatus.WAITING
    locked.agent = None
    locked.passed = [previous] if previous else []
    locked.team = to_team if to_team is not None else locked.team
    if to_agent is not None:
        locked.offered_to = to_agent
        locked.offer_expires_at = at + timedelta(seconds=locked.widget.offer_seconds)
    locked.save(
        update_fields=["status", "agent", "passed", "team", "offered_to", "offer_expires_at"]
    )
    if previous is not None:
        events.to_agent(previous, "chat_transferred", conversation=locked.pk)
    if to_agent is not None:
        events.to_agent(
            to_agent.pk,
            "offer",
            conversation=locked.pk,
            client=locked.client_id,
            queued_at=locked.queued_at.isoformat() if locked.queued_at else None,
            expires_at=locked.offer_expires_at.isoformat() if locked.offer_expires_at else None,
            seconds=locked.widget.offer_seconds,
            transfer=True,
        )
    else:
        transaction.on_commit(lambda: chat_route(conversation_id=locked.pk))
    events.to_conversation(locked.pk, "status", status="waiting", transfer=True)
    events.chats_changed(locked.client_id, locked.pk, "transferred")
    return locked


@transaction.atomic
def conversation_take_over(
    *, conversation: Conversation, supervisor: User, at: datetime | None = None
) -> Conversation:
    """A supervisor takes the chat over from its agent (or from the queue)."""
    if not supervisor.has_kefu_perm(Perm.CHAT_SUPERVISE):
        raise PermissionDenied(_("只有主管可以接管会话 / Only a supervisor can take a chat over"))
    at = at or timezone.now()
    locked = (
        Conversation.objects.select_for_update().get(pk=conversation.pk)
    )
    if not locked.is_open:
        raise ValidationError(_("会话已结束 / The chat has ended"))
    previous, offered = locked.agent_id, locked.offered_to_id
    locked.status = ConversationStatus.ACTIVE
    locked.agent = supervisor
    locked.accepted_at = locked.accepted_at or at
    locked.offered_to = None
    locked.offer_expires_at = None
    locked.save(update_fields=["status", "agent", "accepted_at", "offered_to", "offer_expires_at"])
    assert locked.ticket is not None
    tickets.ticket_assign(ticket=locked.ticket, actor=None, assignee=supervisor)
    if previous is not None and previous != supervisor.pk:
        events.to_agent(previous, "chat_taken_over", conversation=locked.pk)
    if offered is not None:
        events.to_agent(offered, "offer_withdrawn", conversation=locked.pk)
    events.to_agent(supervisor.pk, "chat_assigned", conversation=locked.pk)
    events.to_conversation(locked.pk, "status", status="active", agent=_display(supervisor))
    events.chats_changed(locked.client_id, locked.pk, "taken_over")
    return locked
