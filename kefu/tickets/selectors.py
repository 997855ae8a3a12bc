"""Reads shared by pages, API and commands. Every one starts from ``visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.models import Client
from kefu.core.params import date_param, int_param
from kefu.core.tenancy import get_visible_or_404
from kefu.privacy.fields import email_index, name_index, phone_index
from kefu.tickets.models import (
    OPEN_STATUSES,
    Customer,
    Escalation,
    EscalationStatus,
    Message,
    Status,
    Ticket,
    TicketEvent,
)


def access_ticket(user: User, ticket_id: int, perm: Perm | None = None) -> Ticket:
    """Fetch a ticket the user may see (404 otherwise) and check ``perm`` on it."""
    ticket = get_visible_or_404(Ticket, user, pk=ticket_id)
    if perm is not None and not user.has_kefu_perm(perm):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    return ticket


def access_escalation(user: User, escalation_id: int) -> Escalation:
    return get_visible_or_404(Escalation, user, pk=escalation_id)


def access_customer(user: User, customer_id: int) -> Customer:
    return get_visible_or_404(Customer, user, pk=customer_id)


def customer_match(term: str, *, prefix: str = "") -> Q:
    """Customers whose whole phone number, email address or name is ``term``.

    Those values are encrypted at rest, so this goes through their blind indexes: a part
    of a number, address or name matches nothing. The phone is normalised (+86, spaces
    and dashes do not matter), the email and name compared without case. ``prefix`` is
    the path to the customer (``"customer__"`` from a ticket)."""
    term = term.strip()
    match = Q(pk__in=[])
    if not term:
        return match
    if "@" in term:
        match |= Q(**{f"{prefix}email_key": email_index(term)})
    elif sum(ch.isdigit() for ch in term) >= 5 and not set(term) - set("+-() 0123456789"):
        match |= Q(**{f"{prefix}phone_key": phone_index(term)})
    else:
        match |= Q(**{f"{prefix}name_key": name_index(term)})
    return match


def customer_list(
    *, user: User, client: str = "", phone: str = "", email: str = ""
) -> QuerySet[Customer]:
    """Customers the user may see, newest first; ``phone`` / ``email`` match exactly (after
    normalising) through the blind indexes."""
    qs = Customer.objects.visible_to(user).select_related("client")
    if client:
        qs = qs.filter(client__code=client)
    if phone.strip():
        qs = qs.filter(phone_key=phone_index(phone))
    if email.strip():
        qs = qs.filter(email_key=email_index(email))
    return qs.order_by("-id")


@dataclass(frozen=True, kw_only=True)
class TicketFilters:
    client: str = ""
    status: str = ""
    priority: str = ""
    kind: str = ""
    channel: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    escalated: bool = False
    q: str = ""
    period: str = ""  # created in: YYYY-MM or YYYY-MM-DD (local time)
    resolved: str = ""  # first resolved in: YYYY-MM or YYYY-MM-DD


def ticket_list(*, user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The queue, newest first, with what a list row needs fetched in the same query."""
    qs = Ticket.objects.visible_to(user).select_related("client", "assignee", "customer")
    if filters.client:
        qs = qs.filter(client__code=filters.client)
    if filters.status == "active":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        qs = qs.filter(assignee_id=int_param(filters.assignee, name="assignee"))
    if filters.escalated:
        qs = qs.filter(escalated=True)
    if filters.period and (span := _span(filters.period)):
        qs = qs.filter(created_at__gte=span[0], created_at__lt=span[1])
    if filters.resolved and (span := _span(filters.resolved)):
        qs = qs.filter(first_resolved_at__gte=span[0], first_resolved_at__lt=span[1])
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(
            Q(number=term) | Q(subject__icontains=term) | customer_match(term, prefix="customer__")
        )
    return qs.order_by("-id")


R = TypeVar("R", bound=Model)


def _span(text: str) -> tuple[datetime, datetime] | None:
    """``YYYY-MM`` or ``YYYY-MM-DD`` in the default zone → ``[start, end)``; a malformed or
    out-of-range value is :class:`BadRequest`."""
    if len(text) == 7:
        first = date_param(text + "-01", name="period")
        assert first is not None
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    else:
        first = date_param(text, name="period")
        if first is None:
            return None
        nxt = first + timedelta(days=1)
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(first, time(), tzinfo=zone),
        datetime.combine(nxt, time(), tzinfo=zone),
    )


def keyset_page(qs: QuerySet[R], *, before: int | None, size: int) -> tuple[list[R], int | None]:
    """One page by ``id < before`` (no OFFSET, no COUNT: constant cost at any depth).
    Returns the rows and the cursor for the next page (``None`` at the end)."""
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].pk if more and rows else None)


# The cursor of a "least time left" page that has reached the tickets with no clock.
_NO_CLOCK = "-"


def due_page(qs: QuerySet[Ticket], *, after: str, size: int) -> tuple[list[Ticket], str | None]:
    """Least time left first: overdue tickets (most overdue first), then the others with a
    running SLA clock, by the keyset ``(sla_due_at, id)``; then the tickets with no clock,
    newest first (keyset ``id``). ``after`` is the cursor a previous page returned
    (``"<due>|<id>"``, or ``"-|<id>"`` once past the clocks); a bad one starts over."""
    due_text, _sep, id_text = after.rpartition("|")
    try:
        last_id = int_param(id_text, name="after")
    except BadRequest:
        last_id = None
    timed = qs.filter(sla_due_at__isnull=False).order_by("sla_due_at", "id")
    untimed = qs.filter(sla_due_at__isnull=True).order_by("-id")
    rows: list[Ticket] = []
    if due_text == _NO_CLOCK and last_id is not None:
        untimed = untimed.filter(id__lt=last_id)
    else:
        due = _parse_instant(due_text) if last_id is not None else None
        if due is not None:
            timed = timed.filter(Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__gt=last_id))
        rows = list(timed[: size + 1])
    if len(rows) <= size:
        rows += list(untimed[: size + 1 - len(rows)])
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    last = rows[-1]
    due_key = last.sla_due_at.isoformat() if last.sla_due_at is not None else _NO_CLOCK
    return rows, f"{due_key}|{last.pk}"


def _parse_instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def with_promise_due(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Each ticket with ``promise_due``: the earliest completion time promised on its open
    escalations (None without one), for the queue to show an overdue promise. One
    subquery in the same statement."""
    first = (
        Escalation.objects.filter(ticket=OuterRef("pk"), status=EscalationStatus.OPEN)
        .order_by("expected_by")
        .values("expected_by")[:1]
    )
    return qs.annotate(promise_due=Subquery(first))


def ticket_conversation(*, user: User, ticket: Ticket) -> list[Message]:
    qs = Message.objects.visible_to(user).filter(ticket=ticket).select_related("author")
    return list(qs.prefetch_related("attachments").order_by("created_at", "id"))


def ticket_history(*, user: User, ticket: Ticket) -> list[TicketEvent]:
    qs = TicketEvent.objects.visible_to(user).filter(ticket=ticket).select_related("actor")
    return list(qs.order_by("at", "id"))


def ticket_escalations(*, user: User, ticket: Ticket) -> list[Escalation]:
    qs = Escalation.objects.visible_to(user).filter(ticket=ticket)
    return list(qs.select_related("department", "requested_by", "answered_by"))


def overview(*, user: User) -> list[dict[str, Any]]:
    """Open work per client: counts by status, unassigned, urgent, escalated."""
    open_q = Q(status__in=OPEN_STATUSES)
    rows = (
        Ticket.objects.visible_to(user)
        .filter(open_q)
        .values("client_id")
        .annotate(
            new=Count("id", filter=Q(status=Status.NEW)),
            open=Count("id", filter=Q(status=Status.OPEN)),
            pending=Count("id", filter=Q(status=Status.PENDING)),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
            urgent=Count("id", filter=Q(priority="urgent")),
            escalated=Count("id", filter=Q(escalated=True)),
        )
    )
    by_client = {r["client_id"]: r for r in rows}
    ids = user.visible_client_ids()
    clients = Client.objects.all() if ids is None else Client.objects.filter(id__in=ids)
    result = []
    for client in clients.order_by("code"):
        counts = by_client.get(client.pk, {})
        result.append(
            {
                "client": client,
                **{
                    k: counts.get(k, 0)
                    for k in ("new", "open", "pending", "unassigned", "urgent", "escalated")
                },
            }
        )
    return result


def open_escalations_for(*, user: User) -> QuerySet[Escalation]:
    return (
        Escalation.objects.visible_to(user)
        .filter(status=EscalationStatus.OPEN)
        .select_related("ticket", "department")
        .order_by("expected_by")
    )


def assignable_agents(*, ticket: Ticket) -> QuerySet[User]:
    from kefu.accounts.roles import PROVIDER_ROLES

    return (
        User.objects.filter(is_active=True, role__in=PROVIDER_ROLES)
        .filter(Q(role="admin") | Q(clients=ticket.client_id))
        .distinct()
        .order_by("username")
    )
