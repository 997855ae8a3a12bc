"""Reads of the agent's chat console and the supervisor's live chat view.

Who may do what: an agent's console is for provider staff who may reply to customers; the
live view of a client's chats, listening in and taking a chat over from it are for
supervisors and provider admins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kefu.accounts.models import Presence, PresenceState, Team, User
from kefu.accounts.roles import PROVIDER_ROLES, Perm, Role
from kefu.chat.models import Conversation, ConversationStatus
from kefu.chat.selectors import agent_loads, agents_for
from kefu.contracts.models import Client
from kefu.contracts.selectors import clients_visible_to
from kefu.tickets.models import ACCEPTED, Delivery, Direction, Message

SUPERVISOR_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
WRAP_UP_WITHIN = timedelta(days=2)  # ended chats still shown in the console for wrap-up
# Presence.max_chats of an agent who never opened the console (no presence row yet).
DEFAULT_MAX_CHATS: int = Presence._meta.get_field("max_chats").default


def may_handle_chats(user: User) -> bool:
    """Provider staff who answer customers (the agent socket asks the same)."""
    return user.is_provider and user.has_kefu_perm(Perm.TICKET_REPLY)


def may_supervise_chats(user: User) -> bool:
    return user.is_active and user.role in SUPERVISOR_ROLES


def access_conversation(user: User, conversation_id: int) -> Conversation:
    """A conversation of a client the user serves (404 otherwise, whoever handles it)."""
    found = (
        Conversation.objects.visible_to(user)
        .select_related("ticket", "customer", "agent", "widget")
        .filter(pk=conversation_id)
        .first()
    )
    if found is None:
        raise Http404("no such conversation")
    return found


def console_wrap_ups(*, user: User, now: datetime | None = None) -> list[int]:
    """The user's chats that ended recently and still want their wrap-up (a reload of the
    console opens them again)."""
    now = now or timezone.now()
    return list(
        Conversation.objects.visible_to(user)
        .filter(
            agent=user,
            status=ConversationStatus.ENDED,
            wrapped_up_at__isnull=True,
            ended_at__gte=now - WRAP_UP_WITHIN,
        )
        .order_by("ended_at")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class AgentRow:
    user: User
    state: str
    state_label: str
    since: datetime | None
    load: int
    max_chats: int


@dataclass(frozen=True)
class TransferTargets:
    agents: list[AgentRow]
    teams: list[Team]


def _agent_rows(users: list[User]) -> list[AgentRow]:
    presences = {p.user_id: p for p in Presence.objects.filter(user__in=users)}
    loads = agent_loads([u.pk for u in users])
    labels = dict(PresenceState.choices)
    rows = []
    for u in users:
        p = presences.get(u.pk)
        state = p.state if p else PresenceState.OFFLINE
        rows.append(
            AgentRow(
                user=u,
                state=state,
                state_label=str(labels[state]),
                since=p.changed_at if p else None,
                load=loads[u.pk],
                max_chats=p.max_chats if p else DEFAULT_MAX_CHATS,
            )
        )
    return rows


_STATE_ORDER = {s: i for i, s in enumerate(PresenceState.values)}


def transfer_targets(*, user: User, conversation: Conversation) -> TransferTargets:
    """Whom the chat can go to: the other agents serving its client (online first), and
    the client's teams."""
    others = list(
        agents_for(conversation.client_id)
        .exclude(pk=conversation.agent_id or 0)
        .order_by("display_name", "username")
    )
    rows = sorted(_agent_rows(others), key=lambda r: (_STATE_ORDER[r.state], r.load))
    teams = list(
        Team.objects.visible_to(user).filter(client_id=conversation.client_id).order_by("name")
    )
    return TransferTargets(rows, teams)


@dataclass
class ChatRow:
    conversation: Conversation
    since: datetime | None  # waiting: in the queue since; in progress: accepted at


@dataclass
class AgentChats:
    agent: AgentRow
    chats: list[ChatRow] = field(default_factory=list)


@dataclass
class ClientBoard:
    client: Client
    waiting: list[ChatRow]
    by_agent: list[AgentChats]
    agents: list[AgentRow]
    today: dict[str, int]

    @property
    def in_progress(self) -> int:
        return sum(len(a.chats) for a in self.by_agent)

    @property
    def agents_present(self) -> list[AgentRow]:
        return [a for a in self.agents if a.state != PresenceState.OFFLINE]

    @property
    def agents_offline(self) -> list[AgentRow]:
        return [a for a in self.agents if a.state == PresenceState.OFFLINE]


def _open_chats(client: Client) -> QuerySet[Conversation]:
    return (
        Conversation.objects.open()
        .filter(client=client)
        .select_related("customer", "agent", "offered_to", "team", "ticket")
        .order_by("queued_at", "pk")
    )


def _today(client: Client, now: datetime) -> dict[str, int]:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    chats = Conversation.objects.filter(client=client, started_at__gte=start)
    return {
        "queued": chats.filter(queued_at__isnull=False).count(),
        "answered": chats.filter(answered_at__isnull=False).count(),
        "left_message": chats.filter(status=ConversationStatus.LEFT_MESSAGE).count(),
    }


def client_board(client: Client, *, now: datetime | None = None) -> ClientBoard:
    """One client's chats now: waiting (oldest first), in progress by agent, and the
    agents who serve it by presence with their load and maximum."""
    now = now or timezone.now()
    waiting: list[ChatRow] = []
    active: dict[int, list[ChatRow]] = {}
    for c in _open_chats(client):
        if c.status == ConversationStatus.WAITING:
            waiting.append(ChatRow(c, c.queued_at or c.started_at))
        elif c.agent_id is not None:
            active.setdefault(c.agent_id, []).append(ChatRow(c, c.accepted_at))
    serving = list(agents_for(client.pk).order_by("display_name", "username"))
    holders = [u for u in User.objects.filter(pk__in=active) if u not in serving]
    rows = _agent_rows(serving + holders)
    by_agent = [AgentChats(r, active[r.user.pk]) for r in rows if r.user.pk in active]
    agents = sorted(
        (r for r in rows if r.user in serving),
        key=lambda r: (_STATE_ORDER[r.state], -r.load, str(r.user)),
    )
    return ClientBoard(client, waiting, by_agent, agents, _today(client, now))


def live_clients(*, user: User, code: str | None = None) -> QuerySet[Client]:
    """The clients whose live view the user may open: every client they serve, or the
    one named by ``code`` (404 when it is not one of them)."""
    clients = clients_visible_to(user).order_by("code")
    if code is not None:
        clients = clients.filter(code=code)
        if not clients.exists():
            raise Http404("no such client")
    return clients


def serves_any(user_id: object, client_ids: list[int] | None) -> bool:
    """Whether the user ``user_id`` is provider staff serving one of the clients
    (``None``: every client)."""
    if not isinstance(user_id, int):
        return False
    users = User.objects.filter(pk=user_id, is_active=True, role__in=sorted(PROVIDER_ROLES))
    if client_ids is not None:
        users = users.filter(Q(role=Role.ADMIN) | Q(clients__id__in=client_ids))
    return bool(users.exists())


def delivered_ids(conversation: Conversation) -> list[int]:
    """The agent messages of the chat whose delivery the customer's widget acknowledged
    (the console shows them delivered; read ones from ``customer_read_id``)."""
    if conversation.ticket_id is None:
        return []
    return list(
        Delivery.objects.filter(ticket_id=conversation.ticket_id, status__in=ACCEPTED)
        .order_by("message_id")
        .values_list("message_id", flat=True)
    )


NOTES_SHOWN = 3


def chat_notes(*, user: User, conversation: Conversation) -> list[Message]:
    """The latest internal notes on the chat's ticket, newest first: what a colleague who
    transferred the chat wrote for whoever takes it."""
    if conversation.ticket_id is None:
        return []
    notes = Message.objects.visible_to(user).filter(
        ticket_id=conversation.ticket_id, direction=Direction.NOTE
    )
    return list(notes.select_related("author").order_by("-created_at", "-pk")[:NOTES_SHOWN])
