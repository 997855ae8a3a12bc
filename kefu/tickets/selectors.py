"""Reads shared by pages, API and commands. Every one starts from ``visible_to(user)``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import PROVIDER_ROLES, Perm, Role
from kefu.contracts.models import Client
from kefu.core.params import date_param, int_param
from kefu.core.prepared import PreparedQuery
from kefu.core.tenancy import get_visible_or_404
from kefu.privacy.fields import email_index, name_index, phone_index
from kefu.tickets.models import (
    OPEN_STATUSES,
    UNDELIVERED,
    Customer,
    CustomerIdentifier,
    Delivery,
    Escalation,
    EscalationStatus,
    IdentifierKind,
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
        match |= _holding(prefix, IdentifierKind.EMAIL, email_index(term))
    elif sum(ch.isdigit() for ch in term) >= 5 and not set(term) - set("+-() 0123456789"):
        match |= _holding(prefix, IdentifierKind.PHONE, phone_index(term))
    else:
        match |= Q(**{f"{prefix}name_key": name_index(term)})
    return match


def _holding(prefix: str, kind: str, key: str) -> Q:
    """Customers with this identifier, any of their phones or emails, verified or not (an
    agent's search finds what agents typed too)."""
    holders = CustomerIdentifier.objects.filter(kind=kind, key=key).values("customer_id")
    return Q(**{f"{prefix}pk__in": holders})


def customer_list(
    *, user: User, client: str = "", phone: str = "", email: str = ""
) -> QuerySet[Customer]:
    """Customers the user may see, newest first; ``phone`` / ``email`` match exactly (after
    normalising) through the blind indexes."""
    qs = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    qs = qs.select_related("client")
    if client:
        qs = qs.filter(client__code=client)
    if phone.strip():
        qs = qs.filter(_holding("", IdentifierKind.PHONE, phone_index(phone)))
    if email.strip():
        qs = qs.filter(_holding("", IdentifierKind.EMAIL, email_index(email)))
    return qs.order_by("-id")


def customer_identifiers(*, user: User, customer: Customer) -> list[CustomerIdentifier]:
    """How the customer is recognised (phones, emails, WeChat ids, portal account …)."""
    return list(CustomerIdentifier.objects.visible_to(user).filter(customer=customer))


OTHER_TICKETS_SHOWN = 20


def customer_other_tickets(*, user: User, ticket: Ticket) -> list[Ticket]:
    """The ticket's customer's other tickets, from every channel, that the user may see:
    open ones first, then the latest; at most ``OTHER_TICKETS_SHOWN``."""
    if ticket.customer_id is None:
        return []
    qs = (
        Ticket.objects.visible_to(user)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .only(*_BRIEF)
    )
    rows = list(qs.order_by("-id")[:OTHER_TICKETS_SHOWN])
    rows.sort(key=lambda t: not t.is_open)
    return rows


_BRIEF = ("id", "number", "subject", "status", "channel", "created_at", "client_id")


def _open_siblings(customer_id: int, ticket_id: int) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES)
    return qs.exclude(pk=ticket_id).only(*_BRIEF).order_by("-id")[:OTHER_TICKETS_SHOWN]


# Run for every ticket the API creates: written once (kefu/core/prepared.py).
_OPEN_SIBLINGS = PreparedQuery(_open_siblings)


def ticket_open_siblings(*, ticket: Ticket) -> list[Ticket]:
    """The unresolved tickets (newest first) of the customer of ``ticket``, other than it.

    For a ticket the caller has just created, so may see: a customer's tickets all belong
    to the customer's client, which is the ticket's, and a role that may create tickets
    sees every ticket of the clients it serves. One prepared query, no tenant lookup
    (ticket intake speed). Anywhere else use :func:`customer_open_tickets`."""
    if ticket.customer_id is None:
        return []
    return _OPEN_SIBLINGS.all(ticket.customer_id, ticket.pk)


def customer_open_tickets(
    *, user: User, customer: Customer, exclude: int | None = None
) -> list[Ticket]:
    """The customer's unresolved tickets (new, open, pending) that the user may see, newest
    first; ``exclude`` leaves out one (the ticket just created)."""
    qs = Ticket.objects.visible_to(user).filter(
        customer_id=customer.pk, status__in=OPEN_STATUSES
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.only(*_BRIEF).order_by("-id")[:OTHER_TICKETS_SHOWN])


def customer_merge_candidates(*, user: User, customer: Customer, term: str) -> list[Customer]:
    """Other customers of ``customer``'s client that ``term`` names: ``#123`` or ``123`` (a
    customer number), or a whole phone number, email address or name. Merged records
    (tombstones) are left out."""
    term = term.strip()
    number = term.removeprefix("#")
    match = customer_match(term)
    if number.isdigit() and len(number) <= 9:
        match = Q(pk=int(number))
    qs = (
        Customer.objects.visible_to(user)
        .filter(client_id=customer.client_id, merged_into__isnull=True)
        .exclude(pk=customer.pk)
        .filter(match)
    )
    return list(qs.order_by("pk")[:10])


@dataclass(frozen=True)
class CustomerSummary:
    tickets: int
    open: int
    identifiers: int


def customer_summaries(*, user: User, customers: list[Customer]) -> dict[int, CustomerSummary]:
    """Per customer: tickets the user may see (all, unresolved) and identifiers held."""
    ids = [c.pk for c in customers]
    counts = {
        row["customer_id"]: row
        for row in Ticket.objects.visible_to(user)
        .filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(n=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES)))
        .order_by()
    }
    held = dict(
        CustomerIdentifier.objects.visible_to(user)
        .filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("customer_id", "n")
    )
    return {
        pk: CustomerSummary(
            tickets=counts.get(pk, {}).get("n", 0),
            open=counts.get(pk, {}).get("open", 0),
            identifiers=held.get(pk, 0),
        )
        for pk in ids
    }


@dataclass(frozen=True, kw_only=True)
class TicketFilters:
    client: str = ""
    status: str = ""
    priority: str = ""
    kind: str = ""
    channel: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    escalated: bool = False
    undelivered: bool = False  # a reply that has not reached the customer (queued, failed)
    due_soon: bool = False  # an open ticket whose SLA clock is due within DUE_SOON
    q: str = ""
    period: str = ""  # created in: YYYY-MM or YYYY-MM-DD (local time)
    resolved: str = ""  # first resolved in: YYYY-MM or YYYY-MM-DD


# "即将超时": an SLA clock due within this time (or already past).
DUE_SOON = timedelta(hours=2)
_NUMBER_PART = re.compile(r"^[A-Za-z]*-?[0-9][0-9-]*$")


def ticket_filter(*, user: User, filters: TicketFilters) -> Q:
    """The filters as one condition on the user's visible tickets (so several views can be
    counted in one query, :func:`kefu.tickets.queue_views.view_counts`)."""
    cond = Q()
    if filters.client:
        cond &= Q(client__code=filters.client)
    if filters.status == "active":
        cond &= Q(status__in=OPEN_STATUSES)
    elif filters.status:
        cond &= Q(status=filters.status)
    if filters.priority:
        cond &= Q(priority=filters.priority)
    if filters.kind:
        cond &= Q(kind=filters.kind)
    if filters.channel:
        cond &= Q(channel=filters.channel)
    if filters.assignee == "me":
        cond &= Q(assignee=user)
    elif filters.assignee == "none":
        cond &= Q(assignee__isnull=True)
    elif filters.assignee.isdigit():
        cond &= Q(assignee_id=int_param(filters.assignee, name="assignee"))
    if filters.escalated:
        cond &= Q(escalated=True)
    if filters.undelivered:
        cond &= Q(Exists(Delivery.objects.filter(ticket=OuterRef("pk"), status__in=UNDELIVERED)))
    if filters.due_soon:
        cond &= Q(status__in=OPEN_STATUSES, sla_due_at__lte=timezone.now() + DUE_SOON)
    if filters.period and (span := _span(filters.period)):
        cond &= Q(created_at__gte=span[0], created_at__lt=span[1])
    if filters.resolved and (span := _span(filters.resolved)):
        cond &= Q(first_resolved_at__gte=span[0], first_resolved_at__lt=span[1])
    if filters.q.strip():
        cond &= _search(filters.q.strip())
    return cond


def _search(term: str) -> Q:
    """A ticket number or part of one ("001795"), words of the subject or of any message
    (Chinese matches as typed, no word boundaries needed), or a customer's whole phone
    number, email address or name (their blind indexes)."""
    found = Q(subject__icontains=term) | customer_match(term, prefix="customer__")
    found |= Q(Exists(Message.objects.filter(ticket=OuterRef("pk"), body_text__icontains=term)))
    if _NUMBER_PART.match(term):
        found |= Q(number__icontains=term)
    return found


def ticket_list(*, user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The queue, newest first, with what a list row needs fetched in the same query."""
    qs = Ticket.objects.visible_to(user).select_related("client", "assignee", "customer")
    return qs.filter(ticket_filter(user=user, filters=filters)).order_by("-id")


def next_open_ticket(*, user: User, after: int) -> int | None:
    """The id of the open ticket that follows ``after`` newest-first among the user's
    visible ones, wrapping round to the newest; None when ``after`` is the only one."""
    open_ids = Ticket.objects.visible_to(user).filter(status__in=OPEN_STATUSES).exclude(pk=after)
    following = open_ids.filter(pk__lt=after).order_by("-id").values_list("pk", flat=True).first()
    if following is None:
        following = open_ids.order_by("-id").values_list("pk", flat=True).first()
    return following


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
    qs = Message.objects.visible_to(user).filter(ticket=ticket).select_related("author", "delivery")
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


def agents_serving(client_ids: list[int] | None) -> QuerySet[User]:
    """Active provider staff who may be assigned tickets of any of ``client_ids`` (admins
    serve every client; ``None``: every client)."""
    agents = User.objects.filter(is_active=True, role__in=PROVIDER_ROLES)
    if client_ids is not None:
        agents = agents.filter(Q(role=Role.ADMIN) | Q(clients__in=client_ids))
    return agents.distinct().order_by("username")


def assignable_agents(*, ticket: Ticket) -> QuerySet[User]:
    return agents_serving([ticket.client_id])


def with_undelivered_flag(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Each ticket with ``has_undelivered``: a reply of it has not reached the customer
    (queued or failed), for the queue's badge."""
    return qs.annotate(
        has_undelivered=Exists(
            Delivery.objects.filter(ticket=OuterRef("pk"), status__in=UNDELIVERED)
        )
    )


def access_delivery(user: User, pk: int, perm: Perm | None = None) -> Delivery:
    """A reply's delivery the user may see (404 otherwise), checked like its ticket."""
    delivery = get_visible_or_404(Delivery, user, pk=pk)
    delivery.ticket = access_ticket(user, delivery.ticket_id, perm)
    return delivery
