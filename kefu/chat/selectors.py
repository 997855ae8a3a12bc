"""Reads the chat's sockets, pages and services share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from kefu.accounts.models import PRESENCE_STALE_AFTER, Presence, PresenceState, User
from kefu.accounts.roles import PROVIDER_ROLES, Role
from kefu.calendars.models import Calendar
from kefu.calendars.services import calendar_engine
from kefu.chat.models import ChatWidget, Conversation, ConversationStatus
from kefu.contracts.models import Contract
from kefu.core.prepared import PreparedQuery
from kefu.privacy import masking
from kefu.sla.models import Metric, SlaTarget
from kefu.tickets.models import Channel, Direction, Message


def widget_by_key(key: str) -> ChatWidget | None:
    """The widget a page embeds with ``key``; ``None`` for an unknown or revoked key."""
    if not key or len(key) > 64:
        return None
    return (
        ChatWidget.objects.filter(key=key, revoked_at__isnull=True).select_related("client").first()
    )


# The sockets read their conversation once per frame (it changes under them: the agent, the
# status, the ticket's status), with SQL compiled once per process (kefu/core/prepared.py).
_FOR_WIDGET = PreparedQuery(
    lambda pk: Conversation.objects.filter(pk=pk).select_related("ticket__client", "customer")
)
_FOR_AGENT = PreparedQuery(lambda pk: Conversation.objects.filter(pk=pk).select_related("ticket"))
_BY_TICKET = PreparedQuery(
    lambda ticket_id: (
        Conversation.objects.filter(ticket_id=ticket_id)
        .select_related("widget")
        .order_by("-started_at")[:1]
    )
)


def conversation_of_widget_socket(pk: int) -> Conversation | None:
    """The conversation a widget socket has started or resumed (checked then), with its
    ticket, the ticket's client and the customer."""
    return _FOR_WIDGET.first(pk)


def conversation_visible(user: User, pk: int) -> Conversation | None:
    """The conversation ``pk`` with its ticket if ``user`` may see it (as
    ``Conversation.objects.visible_to(user)``; the user's clients are read once per user
    object), else ``None``."""
    if not user.is_authenticated or not user.is_active:
        return None
    found = _FOR_AGENT.first(pk)
    if found is None:
        return None
    client_ids = user.visible_client_ids()
    return found if client_ids is None or found.client_id in client_ids else None


def conversation_of_ticket(ticket_id: int) -> Conversation | None:
    """The ticket's latest chat conversation, with its widget (the chat adapter's)."""
    return _BY_TICKET.first(ticket_id)


def origin_allowed(widget: ChatWidget, origin: str) -> bool:
    """Whether a page of ``origin`` (scheme://host[:port], as the browser sends it) may
    use the widget. Compared whole and case-insensitively, no wildcards."""
    origin = origin.strip().rstrip("/").lower()
    return bool(origin) and origin in {o.rstrip("/").lower() for o in widget.origins}


def chat_calendar(client_id: int, *, today: date | None = None) -> Calendar | None:
    """The calendar of the contract's chat service hours: the calendar of the chat
    first-response target (DESIGN: the target that applies to chat at normal priority),
    else the current contract's service calendar; ``None``: no hours set (always open)."""
    target = (
        SlaTarget.objects.filter(
            policy__client_id=client_id, policy__active=True, metric=Metric.FIRST_RESPONSE
        )
        .select_related("calendar")
        .order_by("order", "pk")
    )
    for item in target:
        if (not item.channels or Channel.CHAT in item.channels) and (
            not item.priorities or "normal" in item.priorities
        ):
            return item.calendar
    today = today or timezone.localdate()
    contract = (
        Contract.objects.filter(client_id=client_id, start_date__lte=today, end_date__gte=today)
        .select_related("service_calendar")
        .order_by("-start_date")
        .first()
    )
    return contract.service_calendar if contract is not None else None


@dataclass(frozen=True)
class ServiceState:
    """Whether a chat started now is answered live: ``open`` (inside the chat hours),
    ``next_open`` (when closed), ``agents_free`` (online agents with a free chat slot),
    ``waiting`` (chats in the queue now) and ``wait_seconds`` (the expected wait: the
    mean queue wait of the last hour's answered chats, times the queue ahead per free
    agent; ``None`` when there is nothing to go on)."""

    open: bool
    next_open: datetime | None
    agents_free: int
    waiting: int
    wait_seconds: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "next_open": self.next_open.isoformat() if self.next_open else None,
            "agents_free": self.agents_free,
            "waiting": self.waiting,
            "wait_seconds": self.wait_seconds,
        }


def service_hours_open(client_id: int, at: datetime) -> tuple[bool, datetime | None]:
    calendar = chat_calendar(client_id, today=timezone.localdate(at))
    if calendar is None:
        return True, None
    engine = calendar_engine(calendar)
    if engine.is_open(at):
        return True, None
    return False, engine.next_open(at)


def agents_for(client_id: int, *, team_id: int | None = None) -> QuerySet[User]:
    """Provider staff who serve the client (and belong to ``team_id`` when given)."""
    users = User.objects.filter(is_active=True, role__in=sorted(PROVIDER_ROLES)).filter(
        Q(role=Role.ADMIN) | Q(clients__id=client_id)
    )
    if team_id is not None:
        users = users.filter(teams__id=team_id)
    return users.distinct()


def agent_loads(user_ids: list[int]) -> dict[int, int]:
    """Chats each agent holds now: in progress, plus those offered and not yet answered."""
    loads = dict.fromkeys(user_ids, 0)
    active = (
        Conversation.objects.filter(agent_id__in=user_ids, status=ConversationStatus.ACTIVE)
        .values("agent_id")
        .annotate(n=Count("pk"))
    )
    for row in active:
        loads[row["agent_id"]] += row["n"]
    offered = (
        Conversation.objects.filter(offered_to_id__in=user_ids)
        .values("offered_to_id")
        .annotate(n=Count("pk"))
    )
    for row in offered:
        loads[row["offered_to_id"]] += row["n"]
    return loads


def service_state(widget: ChatWidget, at: datetime | None = None) -> ServiceState:
    at = at or timezone.now()
    is_open, next_open = service_hours_open(widget.client_id, at)
    team_id = widget.team_id
    online = list(
        Presence.objects.filter(
            state=PresenceState.ONLINE,
            user__in=agents_for(widget.client_id, team_id=team_id),
            seen_at__gte=at - PRESENCE_STALE_AFTER,
        ).values_list("user_id", "max_chats")
    )
    loads = agent_loads([uid for uid, _ in online])
    free = sum(1 for uid, cap in online if loads[uid] < cap)
    waiting = Conversation.objects.filter(
        client_id=widget.client_id, status=ConversationStatus.WAITING, queued_at__isnull=False
    ).count()
    recent = Conversation.objects.filter(
        client_id=widget.client_id,
        accepted_at__gte=at - timedelta(hours=1),
        queued_at__isnull=False,
    ).aggregate(mean=Avg(F("accepted_at") - F("queued_at")))["mean"]
    wait: int | None = None
    if recent is not None:
        ahead = waiting / max(free, 1)
        wait = int(recent.total_seconds() * max(ahead, 1))
    elif free:
        wait = 0
    return ServiceState(is_open, next_open, free, waiting, wait)


def conversation_for_widget(
    widget: ChatWidget, conversation_id: Any, token_hash: str
) -> Conversation | None:
    """The conversation a widget resumes: it must belong to this widget and carry this
    token's digest, or nothing is found (no telling which part was wrong)."""
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        return None
    return (
        Conversation.objects.filter(pk=conversation_id, widget=widget, token_hash=token_hash)
        .select_related("ticket", "agent")
        .first()
    )


def message_payload(message: Message) -> dict[str, Any]:
    """One chat message as the sockets carry it (see the README's chat protocol)."""
    from_ = "customer" if message.direction == Direction.INBOUND else "agent"
    data: dict[str, Any] = {
        "id": message.pk,
        "from": from_,
        "text": message.body_text,
        "at": message.created_at.isoformat(),
        "author": message.author_name if from_ == "agent" else "",
        "attachments": [
            {"id": a.pk, "name": a.filename, "type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }
    cid = (message.channel_ids or {}).get("cid")
    if cid:
        data["cid"] = cid
    return data


def payload_masked(payload: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A message payload as staff see it (pages mask personal data for every role): numbers
    in the text masked, and the customer's own name (``names``) wherever it occurs."""
    text = masking.text(payload["text"])
    for known in names:
        if len(known) >= 2:
            text = text.replace(known, masking.name(known))
    return {**payload, "text": text}


def conversation_messages(
    conversation: Conversation, *, masked: bool = False
) -> list[dict[str, Any]]:
    """Every public message of the conversation's ticket, oldest first (internal notes
    never), for a widget resuming (as written) or a console opening the chat (``masked``:
    as staff see personal data)."""
    if conversation.ticket_id is None:
        return []
    messages = (
        Message.objects.filter(
            ticket_id=conversation.ticket_id,
            direction__in=(Direction.INBOUND, Direction.OUTBOUND),
        )
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    payloads = [message_payload(m) for m in messages]
    if masked:
        names = customer_names(conversation)
        payloads = [payload_masked(p, names) for p in payloads]
    return payloads


def customer_names(conversation: Conversation) -> list[str]:
    """The name the customer gave, which staff see masked wherever it occurs."""
    customer = conversation.customer
    return [customer.name] if customer is not None and customer.name else []
