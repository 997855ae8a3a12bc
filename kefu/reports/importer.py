"""Import of history (tickets with messages and events, calls, survey answers) from JSON
Lines, one record per line — the format is documented in the README.

The whole file is validated first: a bad line is reported with its line number and field
and nothing is written. Then everything is written in one transaction. Records carry the
source system's ``id``; a record whose id was imported before is skipped, so importing the
same file twice changes nothing. Unknown agents are created as inactive agents."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.models import Client
from kefu.phone.models import Call
from kefu.surveys.models import Survey
from kefu.tickets.models import (
    Customer,
    Direction,
    EventType,
    Message,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketSequence,
)
from kefu.tickets.services import CustomerData, customer_build


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp needs an offset (ISO 8601, e.g. 2026-10-08T09:30:00+08:00)")
    return value


Instant = Annotated[datetime, AfterValidator(_aware)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomerIn(_Strict):
    id: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""


class MessageIn(_Strict):
    at: Instant
    direction: Literal["in", "out", "note"]
    author: str = Field(..., pattern=r"^(customer|agent:[\w.@+-]+)$")
    body: str


class EventIn(_Strict):
    at: Instant
    type: Literal["pending", "open", "escalated", "resolved", "reopened", "closed"]


class TicketIn(_Strict):
    type: Literal["ticket"]
    id: str = Field(..., min_length=1, max_length=100)
    channel: Literal["email", "chat", "phone", "wechat", "portal", "api"]
    kind: Literal["inquiry", "request", "fault", "complaint", "suggestion"] = "inquiry"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    subject: str = Field(..., min_length=1, max_length=300)
    customer: CustomerIn | None = None
    created_at: Instant
    messages: list[MessageIn] = []
    events: list[EventIn] = []
    assignee: str | None = Field(None, description="username of the agent handling it")
    tags: list[str] = Field(default_factory=list, max_length=20)


class CallIn(_Strict):
    type: Literal["call"]
    id: str = Field(..., min_length=1, max_length=100)
    offered_at: Instant
    answered_at: Instant | None = None
    ended_at: Instant
    hold_s: int = Field(0, ge=0)
    acw_s: int = Field(0, ge=0)
    agent: str | None = None
    queue: str = ""
    ticket: str | None = None


class SurveyIn(_Strict):
    type: Literal["survey"]
    id: str = Field(..., min_length=1, max_length=100)
    ticket: str | None = None
    sent_at: Instant
    answered_at: Instant | None = None
    score: int | None = Field(None, ge=1, le=5)
    comment: str = ""
    channel: str = ""


_MODELS: dict[str, type[BaseModel]] = {"ticket": TicketIn, "call": CallIn, "survey": SurveyIn}


class ImportFileError(ValueError):
    """A bad line: names the line number and the field."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    agents_created: list[str] = field(default_factory=list)


def parse_lines(lines: Iterable[str]) -> list[tuple[int, BaseModel]]:
    records: list[tuple[int, BaseModel]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(number, f"not JSON ({exc.msg})") from exc
        if not isinstance(raw, dict) or raw.get("type") not in _MODELS:
            raise ImportFileError(number, "field type: expected 'ticket', 'call' or 'survey'")
        try:
            records.append((number, _MODELS[raw["type"]].model_validate(raw)))
        except PydanticError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ImportFileError(number, f"field {where}: {err['msg']}") from exc
    _check_references(records)
    return records


def _check_references(records: list[tuple[int, BaseModel]]) -> None:
    ids: dict[str, set[str]] = defaultdict(set)
    for number, rec in records:
        kind = rec.type  # type: ignore[attr-defined]
        if rec.id in ids[kind]:  # type: ignore[attr-defined]
            raise ImportFileError(number, f"field id: duplicate {kind} id {rec.id!r}")  # type: ignore[attr-defined]
        ids[kind].add(rec.id)  # type: ignore[attr-defined]
        if isinstance(rec, CallIn) and rec.answered_at and rec.answered_at < rec.offered_at:
            raise ImportFileError(number, "field answered_at: before offered_at")
        if isinstance(rec, CallIn) and rec.ended_at < (rec.answered_at or rec.offered_at):
            raise ImportFileError(number, "field ended_at: before the call was offered/answered")


def _status_after(events: list[EventIn], has_reply: bool) -> str:
    status = Status.OPEN if has_reply else Status.NEW
    for event in sorted(events, key=lambda e: e.at):
        if event.type in ("open", "reopened"):
            status = Status.OPEN
        elif event.type in ("pending", "resolved", "closed"):
            status = Status(event.type)
    return status


_EVENT_TYPES = {"reopened": EventType.REOPENED, "escalated": EventType.ESCALATED}


@transaction.atomic
def import_history(
    *,
    client: Client,
    records: list[tuple[int, BaseModel]],
    progress: Callable[[int], object] | None = None,
    batch: int = 2000,
) -> ImportResult:
    result = ImportResult()
    tick = progress or (lambda n: None)
    tickets_in = [r for _, r in records if isinstance(r, TicketIn)]
    calls_in = [r for _, r in records if isinstance(r, CallIn)]
    surveys_in = [r for _, r in records if isinstance(r, SurveyIn)]
    agents = _agents(client, tickets_in, calls_in, result)

    existing = set(
        Ticket.objects.filter(
            client=client, external_id__in=[t.id for t in tickets_in]
        ).values_list("external_id", flat=True)
    )
    result.skipped["ticket"] = len(existing)
    new_tickets = [t for t in tickets_in if t.id not in existing]
    customers = _customers(client, new_tickets)
    for start in range(0, len(new_tickets), batch):
        chunk = new_tickets[start : start + batch]
        _write_tickets(client, chunk, customers, agents)
        result.created["ticket"] += len(chunk)
        tick(len(chunk))
    tick(len(existing))

    referenced = {c.ticket for c in calls_in if c.ticket} | {
        s.ticket for s in surveys_in if s.ticket
    }
    ticket_ids = dict(
        Ticket.objects.filter(client=client, external_id__in=referenced).values_list(
            "external_id", "pk"
        )
    )
    _write_simple(
        client,
        calls_in,
        Call,
        result,
        tick,
        batch,
        lambda r: _call_row(client, r, agents, ticket_ids),
    )
    _write_simple(
        client,
        surveys_in,
        Survey,
        result,
        tick,
        batch,
        lambda r: _survey_row(client, r, ticket_ids),
    )
    return result


def _agents(
    client: Client, tickets: list[TicketIn], calls: list[CallIn], result: ImportResult
) -> dict[str, User]:
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
    return found


def _customers(client: Client, tickets: list[TicketIn]) -> dict[str, Customer]:
    wanted = {t.customer.id: t.customer for t in tickets if t.customer and t.customer.id}
    found = {
        c.external_key: c
        for c in Customer.objects.filter(client=client, external_key__in=list(wanted))
    }
    fresh = [
        customer_build(
            client=client,
            data=CustomerData(name=c.name, phone=c.phone, email=c.email, external_id=key),
        )
        for key, c in wanted.items()
        if key not in found
    ]
    for c in Customer.objects.bulk_create(fresh, batch_size=2000):
        found[c.external_key] = c
    return found


def _numbers(client: Client, years: list[int]) -> dict[int, int]:
    """Reserve ticket numbers: returns, per year, the last number used before this batch."""
    counts: dict[int, int] = defaultdict(int)
    for y in years:
        counts[y] += 1
    start: dict[int, int] = {}
    for year, n in counts.items():
        seq, _ = TicketSequence.objects.select_for_update().get_or_create(client=client, year=year)
        TicketSequence.objects.filter(pk=seq.pk).update(last=F("last") + n)
        start[year] = seq.last
    return start


def _write_tickets(
    client: Client,
    chunk: list[TicketIn],
    customers: dict[str, Customer],
    agents: dict[str, User],
) -> None:
    years = [timezone.localtime(t.created_at).year for t in chunk]
    next_number = _numbers(client, years)
    rows = []
    for t, year in zip(chunk, years, strict=True):
        next_number[year] += 1
        resolved = sorted(e.at for e in t.events if e.type == "resolved")
        has_reply = any(m.direction == "out" for m in t.messages)
        last = max([t.created_at, *(m.at for m in t.messages), *(e.at for e in t.events)])
        rows.append(
            Ticket(
                client=client,
                number=f"{client.ticket_prefix}-{year}-{next_number[year]:06d}",
                subject=t.subject,
                kind=t.kind,
                priority=t.priority,
                channel=t.channel,
                status=_status_after(t.events, has_reply),
                customer=customers.get(t.customer.id) if t.customer and t.customer.id else None,
                external_id=t.id,
                created_at=t.created_at,
                updated_at=last,
                first_resolved_at=resolved[0] if resolved else None,
                assignee=agents.get(t.assignee) if t.assignee else None,
            )
        )
    tickets = Ticket.objects.bulk_create(rows)
    _tag(client, chunk, tickets)
    messages, events = [], []
    for t, ticket in zip(chunk, tickets, strict=True):
        events.append(
            TicketEvent(
                client=client,
                ticket=ticket,
                type=EventType.CREATED,
                at=t.created_at,
                data={"channel": t.channel, "imported": True},
            )
        )
        for m in t.messages:
            author = agents.get(m.author.removeprefix("agent:")) if m.author != "customer" else None
            messages.append(
                Message(
                    client=client,
                    ticket=ticket,
                    direction=_DIRECTIONS[m.direction],
                    author=author,
                    author_name=str(author) if author else (t.customer.name if t.customer else ""),
                    body_text=m.body,
                    created_at=m.at,
                )
            )
        status = Status.OPEN if any(m.direction == "out" for m in t.messages) else Status.NEW
        for e in sorted(t.events, key=lambda e: e.at):
            if e.type in _EVENT_TYPES:
                events.append(
                    TicketEvent(
                        client=client, ticket=ticket, type=_EVENT_TYPES[e.type], at=e.at, data={}
                    )
                )
                if e.type == "reopened":
                    status = Status.OPEN
                continue
            events.append(
                TicketEvent(
                    client=client,
                    ticket=ticket,
                    type=EventType.STATUS,
                    at=e.at,
                    data={"old": status, "new": e.type},
                )
            )
            status = Status(e.type)
    Message.objects.bulk_create(messages, batch_size=5000)
    TicketEvent.objects.bulk_create(events, batch_size=5000)


def _tag(client: Client, chunk: list[TicketIn], tickets: list[Ticket]) -> None:
    names = {name for t in chunk for name in t.tags}
    if not names:
        return
    Tag.objects.bulk_create([Tag(client=client, name=n) for n in names], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(client=client, name__in=names).values_list("name", "pk"))
    through = Ticket.tags.through
    through.objects.bulk_create(
        [
            through(ticket_id=ticket.pk, tag_id=tags[name])
            for t, ticket in zip(chunk, tickets, strict=True)
            for name in set(t.tags)
        ],
        batch_size=5000,
    )


_DIRECTIONS = {"in": Direction.INBOUND, "out": Direction.OUTBOUND, "note": Direction.NOTE}


def _call_row(client: Client, r: CallIn, agents: dict[str, User], tickets: dict[str, int]) -> Call:
    if r.answered_at is not None:
        wait = (r.answered_at - r.offered_at).total_seconds()
        talk = max((r.ended_at - r.answered_at).total_seconds() - r.hold_s, 0)
    else:
        wait, talk = (r.ended_at - r.offered_at).total_seconds(), 0
    return Call(
        client=client,
        external_id=r.id,
        offered_at=r.offered_at,
        answered_at=r.answered_at,
        ended_at=r.ended_at,
        wait_s=round(wait),
        talk_s=round(talk),
        hold_s=r.hold_s,
        acw_s=r.acw_s,
        agent=agents.get(r.agent) if r.agent else None,
        queue=r.queue,
        ticket_id=tickets.get(r.ticket) if r.ticket else None,
    )


def _survey_row(client: Client, r: SurveyIn, tickets: dict[str, int]) -> Survey:
    return Survey(
        client=client,
        external_id=r.id,
        ticket_id=tickets.get(r.ticket) if r.ticket else None,
        channel=r.channel,
        sent_at=r.sent_at,
        answered_at=r.answered_at,
        score=r.score,
        comment=r.comment,
    )


def _write_simple(
    client: Client,
    records: list[Any],
    model: Any,
    result: ImportResult,
    tick: Callable[[int], object],
    batch: int,
    build: Callable[[Any], Any],
) -> None:
    name = model.__name__.lower()
    existing = set(
        model.objects.filter(client=client, external_id__in=[r.id for r in records]).values_list(
            "external_id", flat=True
        )
    )
    fresh = [build(r) for r in records if r.id not in existing]
    model.objects.bulk_create(fresh, batch_size=batch)
    result.created[name] += len(fresh)
    result.skipped[name] += len(existing)
    tick(len(records))
