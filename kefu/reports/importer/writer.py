"""Writing validated history records: everything in one transaction, idempotent on the
source system's ids, unknown agents created as inactive agents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import connection, models, transaction
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.models import Client
from kefu.phone.models import Call
from kefu.privacy.fields import EncryptedTextField
from kefu.reports.importer.rows import ids_by_key, insert_rows, reserve_ids
from kefu.reports.importer.schema import CallIn, Record, SurveyIn, TicketIn, ticket_steps
from kefu.sla.models import SlaTarget
from kefu.sla.services import sla_replay, sla_targets_for
from kefu.surveys.models import Survey
from kefu.tickets.customers import customer_identifiers_insert_many, customer_identifiers_of
from kefu.tickets.models import (
    Channel,
    Customer,
    Delivery,
    DeliveryStatus,
    Direction,
    EventType,
    Message,
    Status,
    Tag,
    Ticket,
    TicketEvent,
)
from kefu.tickets.numbering import ticket_numbers_reserve
from kefu.tickets.services import CustomerData, customer_build
from kefu.tickets.workflow import ESCALATED, REOPENED, REPLY, Step, history_status

Tick = Callable[[int], object]


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    agents_created: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Agents:
    """Agents by username, with the name a message of theirs is signed with."""

    ids: dict[str, int]
    labels: dict[str, str]


@transaction.atomic
def import_history(
    *,
    client: Client,
    records: Sequence[tuple[int, Record]],
    progress: Tick | None = None,
    batch: int = 10_000,
) -> ImportResult:
    """Write validated records (``parse_lines``) for ``client``; records whose source id
    was imported before are skipped. ``progress`` is called with the number of records
    done after each batch."""
    result = ImportResult()
    tick = progress or (lambda n: None)
    lined = [(line, r) for line, r in records if isinstance(r, TicketIn)]
    tickets_in = [r for _, r in lined]
    calls_in = [r for _, r in records if isinstance(r, CallIn)]
    surveys_in = [r for _, r in records if isinstance(r, SurveyIn)]
    agents = _agents(client, tickets_in, calls_in, result)

    existing = _existing(Ticket, client, [t.id for t in tickets_in])
    result.skipped["ticket"] = len(existing)
    new_tickets = [(line, t) for line, t in lined if t.id not in existing]
    customers = _customers(client, [t for _, t in new_tickets])
    clocks = _Clocks(client)
    for start in range(0, len(new_tickets), batch):
        chunk = new_tickets[start : start + batch]
        _write_tickets(client, chunk, customers, agents, clocks)
        result.created["ticket"] += len(chunk)
        tick(len(chunk))
    tick(len(existing))

    referenced = sorted(
        {c.ticket for c in calls_in if c.ticket} | {s.ticket for s in surveys_in if s.ticket}
    )
    ticket_ids = _ids_by_external_id(Ticket, client, referenced)
    calls = _skip_existing(Call, client, calls_in, result, tick)
    call_rows = [_call_row(client.pk, c, agents, ticket_ids) for c in calls]
    _write_plain(Call, _CALL_COLUMNS, call_rows, result, tick, batch)
    surveys = _skip_existing(Survey, client, surveys_in, result, tick)
    survey_rows = [_survey_row(client.pk, s, ticket_ids) for s in surveys]
    _write_plain(Survey, _SURVEY_COLUMNS, survey_rows, result, tick, batch)
    return result


def _write_plain(
    model: type[models.Model],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    result: ImportResult,
    tick: Tick,
    batch: int,
) -> None:
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        insert_rows(model, columns, part)
        result.created[model.__name__.lower()] += len(part)
        tick(len(part))


def _ids_by_external_id(
    model: type[models.Model], client: Client, external_ids: Sequence[str]
) -> dict[str, int]:
    return ids_by_key(model, client.pk, "external_id", external_ids)


def _existing(model: type[models.Model], client: Client, external_ids: Sequence[str]) -> set[str]:
    return set(_ids_by_external_id(model, client, external_ids))


def _skip_existing(
    model: type[models.Model],
    client: Client,
    records: list[CallIn] | list[SurveyIn],
    result: ImportResult,
    tick: Tick,
) -> list[Any]:
    existing = _existing(model, client, [r.id for r in records])
    result.skipped[model.__name__.lower()] += len(existing)
    tick(len(existing))
    return [r for r in records if r.id not in existing]


def _agents(
    client: Client, tickets: list[TicketIn], calls: list[CallIn], result: ImportResult
) -> _Agents:
    names = {
        m.author.removeprefix("agent:")
        for t in tickets
        for m in t.messages
        if m.author.startswith("agent:")
    }
    names |= {c.agent for c in calls if c.agent}
    names |= {t.assignee for t in tickets if t.assignee}
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    for name in sorted(names - set(found)):
        user = User(username=name, role=Role.AGENT, is_active=False, display_name=name)
        user.set_unusable_password()
        user.save()
        user.clients.add(client)
        found[name] = user
        result.agents_created.append(name)
    return _Agents(
        ids={name: u.pk for name, u in found.items()},
        labels={name: str(u) for name, u in found.items()},
    )


def _customers(client: Client, tickets: list[TicketIn]) -> dict[str, int]:
    """Customer ids by source id, creating the customers not imported before."""
    wanted = {t.customer.id: t.customer for t in tickets if t.customer and t.customer.id}
    found = ids_by_key(Customer, client.pk, "external_key", list(wanted))
    fresh = [
        customer_build(
            client=client,
            data=CustomerData(name=c.name, phone=c.phone, email=c.email, external_id=key),
        )
        for key, c in wanted.items()
        if key not in found
    ]
    now = timezone.now()
    insert_rows(Customer, _CUSTOMER_COLUMNS, (_customer_row(c, now) for c in fresh))
    created = ids_by_key(Customer, client.pk, "external_key", [c.external_key for c in fresh])
    identifiers = []
    for c in fresh:
        c.pk = created[c.external_key]
        identifiers += customer_identifiers_of(c)
    customer_identifiers_insert_many(identifiers)
    found.update(created)
    # A customer merged into another since an earlier import: its tickets go to the
    # customer it was merged into.
    merged = dict(
        Customer.objects.filter(pk__in=found.values(), merged_into__isnull=False).values_list(
            "pk", "merged_into_id"
        )
    )
    return {key: merged.get(pk, pk) for key, pk in found.items()}


_SEALED = [
    cast(EncryptedTextField, Customer._meta.get_field(name))
    for name in ("name", "phones", "emails")
]
_CUSTOMER_COLUMNS = (
    "client_id",
    *(f.attname for f in _SEALED),
    "external_ids",
    "phone_key",
    "email_key",
    "name_key",
    "external_key",
    "created_at",
)


def _customer_row(customer: Customer, now: datetime) -> tuple[Any, ...]:
    """A built customer (``customer_build``: blind indexes set) as a row, its personal data
    encrypted by the fields themselves, as ``save()`` would."""
    return (
        customer.client_id,
        *(f.get_db_prep_save(f.pre_save(customer, True), connection) for f in _SEALED),
        customer.external_ids,
        customer.phone_key,
        customer.email_key,
        customer.name_key,
        customer.external_key,
        now,
    )


_TICKET_COLUMNS = (
    "client_id",
    "number",
    "subject",
    "kind",
    "priority",
    "status",
    "channel",
    "customer_id",
    "assignee_id",
    "external_id",
    "created_at",
    "updated_at",
    "first_resolved_at",
)
_MESSAGE_COLUMNS = (
    "client_id",
    "ticket_id",
    "direction",
    "author_id",
    "author_name",
    "body_text",
    "created_at",
)
_EVENT_COLUMNS = ("client_id", "ticket_id", "type", "at", "data")
_EVENT_TYPES = {"reopened": EventType.REOPENED, "escalated": EventType.ESCALATED}
_DIRECTIONS = {"in": Direction.INBOUND, "out": Direction.OUTBOUND, "note": Direction.NOTE}


def _write_tickets(
    client: Client,
    lined: list[tuple[int, TicketIn]],
    customers: dict[str, int],
    agents: _Agents,
    clocks: _Clocks,
) -> None:
    cid = client.pk
    chunk = [t for _, t in lined]
    histories = [ticket_steps(line, t) for line, t in lined]
    statuses = [history_status(steps) for steps in histories]
    numbers = ticket_numbers_reserve(client, [t.created_at for t in chunk])
    rows = []
    for t, number, steps, status in zip(chunk, numbers, histories, statuses, strict=True):
        resolved = [s.at for s in steps if s.new == Status.RESOLVED]
        last = max([t.created_at, *(m.at for m in t.messages), *(e.at for e in t.events)])
        rows.append(
            (
                cid,
                number,
                t.subject,
                t.kind,
                t.priority,
                status,
                t.channel,
                customers.get(t.customer.id) if t.customer and t.customer.id else None,
                agents.ids.get(t.assignee) if t.assignee else None,
                t.id,
                t.created_at,
                last,
                resolved[0] if resolved else None,
            )
        )
    reserved = reserve_ids(Ticket, len(rows))
    if reserved is None:
        insert_rows(Ticket, _TICKET_COLUMNS, rows)
        ticket_ids = _ids_by_external_id(Ticket, client, [t.id for t in chunk])
    else:
        insert_rows(
            Ticket,
            ("id", *_TICKET_COLUMNS),
            [(pk, *r) for pk, r in zip(reserved, rows, strict=True)],
        )
        ticket_ids = {t.id: pk for t, pk in zip(chunk, reserved, strict=True)}
    _tag(client, chunk, ticket_ids)
    messages: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    for t, steps in zip(chunk, histories, strict=True):
        pk = ticket_ids[t.id]
        customer_name = t.customer.name if t.customer else ""
        history.append((cid, pk, EventType.CREATED, t.created_at, _created_data[t.channel]))
        for m in t.messages:
            agent = m.author.removeprefix("agent:") if m.author != "customer" else None
            messages.append(
                (
                    cid,
                    pk,
                    _DIRECTIONS[m.direction],
                    agents.ids[agent] if agent else None,
                    agents.labels[agent] if agent else customer_name,
                    m.body,
                    m.at,
                )
            )
        history.extend(_event_rows(cid, pk, steps))
    insert_rows(Message, _MESSAGE_COLUMNS, messages)
    _mark_delivered(cid, {ticket_ids[t.id]: t.channel for t in chunk})
    insert_rows(TicketEvent, _EVENT_COLUMNS, history)
    for t, steps, status in zip(chunk, histories, statuses, strict=True):
        clocks.replay(ticket_ids[t.id], t, steps, status=status)


class _Clocks:
    """The SLA clocks of imported tickets, replayed from their history
    (:func:`kefu.sla.services.sla_replay`) when the client's SLA policy has targets for
    them; nothing is read or written per ticket for a client without a policy."""

    def __init__(self, client: Client) -> None:
        self.client_id = client.pk
        self.targets: dict[tuple[str, str, str], dict[str, SlaTarget]] = {}

    def replay(self, pk: int, t: TicketIn, steps: list[Step], *, status: str) -> None:
        shape = (t.channel, t.priority, t.kind)
        targets = self.targets.get(shape)
        if targets is None:
            targets = self.targets[shape] = sla_targets_for(
                client_id=self.client_id, channel=t.channel, priority=t.priority, kind=t.kind
            )
        if not targets:
            return
        ticket = Ticket(
            pk=pk,
            client_id=self.client_id,
            channel=t.channel,
            priority=t.priority,
            kind=t.kind,
            status=status,
            created_at=t.created_at,
        )
        sla_replay(ticket=ticket, steps=steps, targets=targets)


_DELIVERY_COLUMNS = (
    "client_id",
    "ticket_id",
    "message_id",
    "channel",
    "status",
    "attempts",
    "accepted_at",
    "created_at",
)


def _mark_delivered(cid: int, channels: dict[int, str]) -> None:
    """What importing a reply means: the source system delivered it to the customer, so it
    gets a delivery marked sent (accepted by the transport) at the message's own time, and
    the first-response and FCR figures count it as they count kefu's own accepted replies."""
    replies = Message.objects.filter(
        ticket_id__in=list(channels), direction=Direction.OUTBOUND
    ).values_list("pk", "ticket_id", "created_at")
    insert_rows(
        Delivery,
        _DELIVERY_COLUMNS,
        [
            (cid, ticket_id, pk, channels[ticket_id], DeliveryStatus.SENT, 1, at, at)
            for pk, ticket_id, at in replies.iterator(chunk_size=2000)
        ],
    )


# The same dict for the same event data: encoded once per import (rows.insert_rows).
_created_data = {c: {"channel": c, "imported": True} for c in Channel.values}
_status_data = {
    (old, new): {"old": old, "new": new} for old in Status.values for new in Status.values
}
_NO_DATA: dict[str, Any] = {}


def _event_rows(
    cid: int, pk: int, steps: list[Step]
) -> Iterable[tuple[int, int, str, datetime, dict[str, Any]]]:
    """The recorded steps as history entries (a reply is its message; a new ticket opened
    by its first reply, as no one recorded it, gets no entry)."""
    for step in steps:
        if step.kind == REPLY or step.implied:
            continue
        if step.kind == ESCALATED:
            yield (cid, pk, EventType.ESCALATED, step.at, _NO_DATA)
        else:
            kind = EventType.REOPENED if step.kind == REOPENED else EventType.STATUS
            yield (cid, pk, kind, step.at, _status_data[step.old, step.new])


def _tag(client: Client, chunk: list[TicketIn], ticket_ids: dict[str, int]) -> None:
    names = {name for t in chunk for name in t.tags}
    if not names:
        return
    Tag.objects.bulk_create([Tag(client=client, name=n) for n in names], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(client=client, name__in=names).values_list("name", "pk"))
    through = Ticket.tags.through
    insert_rows(
        through,
        ("ticket_id", "tag_id"),
        [(ticket_ids[t.id], tags[name]) for t in chunk for name in set(t.tags)],
    )


_CALL_COLUMNS = (
    "client_id",
    "external_id",
    "offered_at",
    "answered_at",
    "ended_at",
    "wait_s",
    "talk_s",
    "hold_s",
    "acw_s",
    "agent_id",
    "queue",
    "ticket_id",
)


def _call_row(cid: int, r: CallIn, agents: _Agents, tickets: dict[str, int]) -> tuple[Any, ...]:
    if r.answered_at is not None:
        wait = (r.answered_at - r.offered_at).total_seconds()
        talk = max((r.ended_at - r.answered_at).total_seconds() - r.hold_s, 0)
    else:
        wait, talk = (r.ended_at - r.offered_at).total_seconds(), 0
    return (
        cid,
        r.id,
        r.offered_at,
        r.answered_at,
        r.ended_at,
        round(wait),
        round(talk),
        r.hold_s,
        r.acw_s,
        agents.ids.get(r.agent) if r.agent else None,
        r.queue,
        tickets.get(r.ticket) if r.ticket else None,
    )


_SURVEY_COLUMNS = (
    "client_id",
    "external_id",
    "ticket_id",
    "channel",
    "sent_at",
    "answered_at",
    "score",
    "comment",
)


def _survey_row(cid: int, r: SurveyIn, tickets: dict[str, int]) -> tuple[Any, ...]:
    return (
        cid,
        r.id,
        tickets.get(r.ticket) if r.ticket else None,
        r.channel,
        r.sent_at,
        r.answered_at,
        r.score,
        r.comment,
    )
