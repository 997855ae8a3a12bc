"""SLA clocks: started, paused, resumed, met, warned and breached, each transition stored.

Rules (what a client auditing the figures needs to know):
- Targets are chosen when the ticket is created: for each metric the first matching target
  of the client's active policy (by ``order``). acknowledge, first_response, escalation and
  resolution start at creation; next_response (progress update) starts at each public agent
  reply while the ticket is unresolved and is met by the next one.
- acknowledge is met by the first public reply, an acknowledgement the customer's mail
  server accepted (the email channel's 确认登记 mail), or the ticket leaving ``new`` other
  than by a reply (an agent opening it, assigning a status); first_response
  by the first public reply; escalation by an escalation to a client department; resolution
  by ``resolved`` (or ``closed``).
- A reply counts only once it reached the customer: acknowledge, first_response and
  next_response are met when the channel's transport accepts the reply (the SMTP server's
  250, a logged call answered), at the instant of acceptance, not when the agent clicked
  (:func:`sla_on_reply` is called by the delivery, kefu.tickets.delivery). A reply still
  queued or failed meets nothing: the clock runs on and breaches when due. Resolving a
  ticket whose reply is still on its way (queued or sending) leaves its response clocks
  running, so the acceptance still meets them; a delivery that never succeeds breaches
  them. Imported history was delivered by its source system, at the message's time.
- Durations are stored in seconds (a chat first response may be 30 s); contracts may give
  ``seconds`` or ``minutes``.
- While the ticket is pending (waiting on the customer) every running clock pauses; it
  resumes when the ticket opens again. Paused time does not count.
- A change of priority or kind re-chooses the targets: a running or paused clock whose
  target no longer applies is cancelled (kept, excluded from compliance) and a clock for the
  new target replaces it, counting from the same start with the business time already used;
  if the new target is already exceeded it breaches at the next sweep. Finished clocks keep
  their verdict.
- Reopening a resolved ticket starts a new resolution clock; the earlier one keeps its
  verdict.
- The hooks run inside the ticket service's transaction (no savepoint of their own): a clock
  changes exactly when the ticket change that moved it commits.
- A recorded history (the history import, the demo) is replayed through the same hooks
  (:func:`sla_replay`); a reply in it counts as accepted at its own instant, and what breached
  in it is recorded at the due instant without notifying anyone.
- A breach is recorded once, at the due instant, by whichever sweeper gets there first. It
  notifies the assignee and the client's supervisors; the ticket's first breach also raises
  its priority one step (when the target says so), later breaches only notify — so two
  clocks breaching together do not jump a ticket from normal to urgent. The raise is the
  tickets app's task (registered in :mod:`kefu.sla.hooks`), committed with the breach and
  run by the task worker a moment later.
- A breached clock stays overdue until the event that would have met it happens (its
  instant is kept as ``met_at``; the verdict stays breached): the ticket's ``sla_due_at``
  is the earliest due instant of its running clocks and of those overdue ones, so the
  queue shows it overdue and sorts it first. A resolved or closed ticket has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kefu.calendars.services import calendar_engine
from kefu.core.prepared import PreparedInsert, PreparedQuery
from kefu.sla import tasks
from kefu.sla.hooks import Breach, breach_actions
from kefu.sla.models import (
    ClockStatus,
    Metric,
    SlaClock,
    SlaEvent,
    SlaEventType,
    SlaTarget,
)
from kefu.tickets.models import Delivery, DeliveryStatus, Status, Ticket

START_ON_CREATE = (Metric.ACKNOWLEDGE, Metric.FIRST_RESPONSE, Metric.ESCALATION, Metric.RESOLUTION)
ACTIVE = (ClockStatus.RUNNING, ClockStatus.PAUSED)
MET_BY_REPLY = (Metric.ACKNOWLEDGE, Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE)

# True while a ticket's history is replayed (:func:`sla_replay`): a breach found then
# happened long ago and is stored, but nobody is told about it now.
_REPLAYING: ContextVar[bool] = ContextVar("sla_replaying", default=False)


def _event(clock: SlaClock, type_: str, at: datetime, **data: object) -> None:
    SlaEvent.objects.create(client_id=clock.client_id, clock=clock, type=type_, at=at, data=data)


def _targets(ticket: Ticket) -> dict[str, SlaTarget]:
    return sla_targets_for(
        client_id=ticket.client_id,
        channel=ticket.channel,
        priority=ticket.priority,
        kind=ticket.kind,
    )


# Read for every new ticket: the SQL is written once (kefu/core/prepared.py).
_ACTIVE_TARGETS = PreparedQuery(
    lambda client_id: (
        SlaTarget.objects.filter(policy__client_id=client_id, policy__active=True)
        .select_related("calendar")
        .order_by("order", "id")
    )
)


def sla_targets_for(
    *, client_id: int, channel: str, priority: str, kind: str
) -> dict[str, SlaTarget]:
    """For each metric, the first target of the client's active policy (at most one:
    a constraint) that matches a ticket of this channel, priority and kind. One query, none
    for the policy row itself."""
    chosen: dict[str, SlaTarget] = {}
    for target in _ACTIVE_TARGETS.all(client_id):
        if target.metric not in chosen and target.matches(
            channel=channel, priority=priority, kind=kind
        ):
            chosen[target.metric] = target
    return chosen


def _schedule(clock: SlaClock) -> None:
    """Set due, warn and next check of a running clock from its run start and budget."""
    assert clock.resumed_at is not None
    eng = calendar_engine(clock.target.calendar)
    remaining = max(clock.goal_seconds - clock.consumed_seconds, 0)
    clock.due_at = eng.add_seconds(clock.resumed_at, remaining)
    warn_total = clock.goal_seconds * clock.target.warn_percent // 100
    clock.warn_at = eng.add_seconds(clock.resumed_at, max(warn_total - clock.consumed_seconds, 0))
    clock.next_check_at = clock.warn_at if clock.warned_at is None else clock.due_at
    # Provisional: the due instant was worked out with a year whose holidays the engine
    # did not have (the engine that computed it says so, on the calendar's own zone).
    clock.provisional = eng.is_provisional(clock.resumed_at, clock.due_at)


def _start(
    ticket: Ticket,
    target: SlaTarget,
    at: datetime,
    consumed: int = 0,
    started_at: datetime | None = None,
) -> SlaClock:
    clock = _new_clock(ticket, target, at, consumed, started_at)
    clock.save()
    _event(clock, SlaEventType.STARTED, at, target=target.pk, due_at=_iso(clock.due_at))
    return clock


def _new_clock(
    ticket: Ticket,
    target: SlaTarget,
    at: datetime,
    consumed: int = 0,
    started_at: datetime | None = None,
) -> SlaClock:
    """A clock for the target, scheduled (or paused if the ticket is pending); not saved."""
    clock = SlaClock(
        client_id=ticket.client_id,
        ticket=ticket,
        target=target,
        metric=target.metric,
        status=ClockStatus.RUNNING,
        goal_seconds=target.seconds,
        consumed_seconds=consumed,
        started_at=started_at or at,
        resumed_at=at,
    )
    if ticket.status == Status.PENDING:
        clock.status = ClockStatus.PAUSED
        clock.resumed_at = None
    else:
        _schedule(clock)
    return clock


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _active(ticket: Ticket, metrics: Iterable[str] | None = None) -> list[SlaClock]:
    qs = SlaClock.objects.filter(ticket=ticket, status__in=ACTIVE).select_related(
        "target__calendar"
    )
    if metrics is not None:
        qs = qs.filter(metric__in=list(metrics))
    # of=("self",): lock the clocks only, not the shared target and calendar rows joined in.
    return list(qs.select_for_update(of=("self",)))


# A breached clock whose event has not happened yet: the ticket is overdue on it.
_OVERDUE = Q(status=ClockStatus.BREACHED, met_at__isnull=True)


def _due_or_late(ticket: Ticket, metrics: Iterable[str]) -> list[SlaClock]:
    """The clocks an event fulfilling ``metrics`` ends: running or paused ones (met), and
    breached ones still overdue (they keep their verdict and get the instant, see
    :func:`_meet`)."""
    return _DUE_OR_LATE.all(ticket.pk, shape=tuple(metrics))


# Read (and locked) on every reply that reaches a customer: the SQL is written once per
# set of metrics.
_DUE_OR_LATE = PreparedQuery(
    lambda ticket_id, shape: (
        SlaClock.objects.filter(ticket_id=ticket_id, metric__in=list(shape))
        .filter(Q(status__in=ACTIVE) | _OVERDUE)
        .select_related("target__calendar")
        .select_for_update(of=("self",))
    )
)
_NEXT_DUE = PreparedQuery(
    lambda ticket_id: (
        SlaClock.objects.filter(ticket_id=ticket_id)
        .filter(Q(status=ClockStatus.RUNNING) | _OVERDUE)
        .order_by("due_at")
        .only("due_at")[:1]
    )
)


def _refresh_ticket_due(ticket: Ticket) -> None:
    """Keep ``ticket.sla_due_at``: the earliest due instant of its running clocks and of
    its breached clocks still overdue (the queue shows those as overdue, first)."""
    due = None
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        first = _NEXT_DUE.first(ticket.pk)
        due = first.due_at if first is not None else None
    if ticket.sla_due_at != due:
        ticket.sla_due_at = due
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)


def _meet(clock: SlaClock, at: datetime) -> None:
    if clock.status == ClockStatus.RUNNING and clock.due_at is not None and at > clock.due_at:
        # The sweeper has not got there yet: the breach happened at the due instant.
        _breach(clock, at, act=False)
        clock.refresh_from_db()
    if clock.status in ACTIVE:
        clock.status = ClockStatus.MET
        clock.met_at = at
        clock.stopped_at = at
        clock.next_check_at = None
        clock.save()
        _event(clock, SlaEventType.MET, at)
    elif clock.status == ClockStatus.BREACHED and clock.met_at is None:
        # Fulfilled late: the verdict stays breached, the instant is kept for the record.
        SlaClock.objects.filter(pk=clock.pk).update(met_at=at)


def _cancel(clock: SlaClock, at: datetime, reason: str) -> None:
    clock.status = ClockStatus.CANCELLED
    clock.stopped_at = at
    clock.next_check_at = None
    clock.save()
    _event(clock, SlaEventType.CANCELLED, at, reason=reason)


@transaction.atomic(savepoint=False)
def sla_ticket_created(
    *, ticket: Ticket, at: datetime, targets: Mapping[str, SlaTarget] | None = None
) -> list[SlaClock]:
    """Start the clocks of a saved ticket that has none running: written together, two
    statements for however many clocks, plus the ticket's earliest due instant.
    ``targets``: :func:`sla_targets_for` the ticket, when the caller read them already."""
    clocks = sla_clocks_for_new_ticket(ticket=ticket, at=at, targets=targets)
    if not clocks:
        return []
    sla_clocks_start(clocks, at=at)
    if ticket.sla_due_at is not None:
        _refresh_ticket_due(ticket)  # not new after all: it has clocks of its own
    else:
        due = sla_due_of(clocks)
        if due is not None:
            ticket.sla_due_at = due
            Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    return clocks


def sla_clocks_for_new_ticket(
    *, ticket: Ticket, at: datetime, targets: Mapping[str, SlaTarget] | None = None
) -> list[SlaClock]:
    """The clocks a new ticket starts, scheduled but not saved: a ticket not yet written
    can take its due time from them (:func:`sla_due_of`) and be written once, before
    :func:`sla_clocks_start` writes the clocks."""
    chosen = _targets(ticket) if targets is None else targets
    return [_new_clock(ticket, t, at) for m, t in chosen.items() if m in START_ON_CREATE]


def sla_due_of(clocks: list[SlaClock]) -> datetime | None:
    """The earliest due instant of the running clocks (what a ticket's ``sla_due_at``
    holds)."""
    return min(
        (c.due_at for c in clocks if c.status == ClockStatus.RUNNING and c.due_at), default=None
    )


# A new ticket's clocks and their events: two INSERTs whose SQL is written once per number
# of clocks (kefu/core/prepared.py).
_NEW_CLOCKS = PreparedInsert(SlaClock)
_NEW_EVENTS = PreparedInsert(SlaEvent)


def sla_clocks_start(clocks: list[SlaClock], *, at: datetime) -> None:
    """Write the clocks of :func:`sla_clocks_for_new_ticket` (once their ticket is saved)
    and their ``started`` events: two statements for however many clocks."""
    if not clocks:
        return
    _NEW_CLOCKS.insert_many(clocks)
    _NEW_EVENTS.insert_many(
        [
            SlaEvent(
                client_id=clock.client_id,
                clock=clock,
                type=SlaEventType.STARTED,
                at=at,
                data={"target": clock.target_id, "due_at": _iso(clock.due_at)},
            )
            for clock in clocks
        ]
    )


def _reply_in_flight(ticket: Ticket) -> bool:
    """Whether a reply of the ticket is on its way to the customer (queued or sending)."""
    return Delivery.objects.filter(
        ticket=ticket,
        is_reply=True,
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING],
    ).exists()


@transaction.atomic(savepoint=False)
def sla_on_reply(*, ticket: Ticket, at: datetime) -> None:
    """A public agent reply reached the customer (its transport accepted it at ``at``):
    meets acknowledge, first response and progress update, then starts the next
    progress-update clock while the ticket is unresolved."""
    for clock in _due_or_late(ticket, MET_BY_REPLY):
        _meet(clock, at)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        target = _targets(ticket).get(Metric.NEXT_RESPONSE)
        if target is not None:
            _start(ticket, target, at)
    _refresh_ticket_due(ticket)


@transaction.atomic(savepoint=False)
def sla_on_acknowledged(*, ticket: Ticket, at: datetime) -> None:
    """An acknowledgement (确认登记) reached the customer: meets the acknowledge clock only;
    first response still waits for an agent's reply."""
    for clock in _due_or_late(ticket, [Metric.ACKNOWLEDGE]):
        _meet(clock, at)
    _refresh_ticket_due(ticket)


@transaction.atomic(savepoint=False)
def sla_on_escalated(*, ticket: Ticket, at: datetime) -> None:
    for clock in _due_or_late(ticket, [Metric.ESCALATION]):
        _meet(clock, at)
    _refresh_ticket_due(ticket)


@transaction.atomic(savepoint=False)
def sla_on_status(
    *, ticket: Ticket, old: str, new: str, at: datetime, by_reply: bool = False
) -> None:
    """``by_reply``: the change came with a public reply, whose acceptance by its transport
    meets acknowledge (:func:`sla_on_reply`); leaving ``new`` does not meet it then."""
    if old == Status.NEW and new != Status.NEW and not by_reply:
        for clock in _due_or_late(ticket, [Metric.ACKNOWLEDGE]):
            _meet(clock, at)
    if new == Status.PENDING:
        for clock in _active(ticket):
            if clock.status == ClockStatus.RUNNING:
                _pause(clock, at)
    elif old == Status.PENDING:
        for clock in _active(ticket):
            if clock.status == ClockStatus.PAUSED:
                _resume(clock, at)
    if new in (Status.RESOLVED, Status.CLOSED):
        in_flight = _reply_in_flight(ticket)
        for clock in _active(ticket):
            if clock.metric == Metric.RESOLUTION:
                _meet(clock, at)
            elif not (in_flight and clock.metric in MET_BY_REPLY):
                _cancel(clock, at, f"ticket {new}")
        for clock in _due_or_late(ticket, [Metric.RESOLUTION]):
            _meet(clock, at)  # resolved late: the instant is kept with the breach
    elif old in (Status.RESOLVED, Status.CLOSED):
        target = _targets(ticket).get(Metric.RESOLUTION)
        if target is not None:
            _start(ticket, target, at)
    _refresh_ticket_due(ticket)


def _pause(clock: SlaClock, at: datetime) -> None:
    assert clock.resumed_at is not None
    if clock.due_at is not None and at > clock.due_at:
        _breach(clock, at, act=False)
        return
    used = calendar_engine(clock.target.calendar).elapsed(clock.resumed_at, at)
    clock.consumed_seconds = min(clock.consumed_seconds + used, clock.goal_seconds)
    clock.status = ClockStatus.PAUSED
    clock.resumed_at = None
    clock.due_at = clock.warn_at = clock.next_check_at = None
    clock.save()
    _event(clock, SlaEventType.PAUSED, at, consumed_seconds=clock.consumed_seconds)


def _resume(clock: SlaClock, at: datetime) -> None:
    clock.status = ClockStatus.RUNNING
    clock.resumed_at = at
    _schedule(clock)
    clock.save()
    _event(clock, SlaEventType.RESUMED, at, due_at=_iso(clock.due_at))


@transaction.atomic(savepoint=False)
def sla_on_retarget(*, ticket: Ticket, at: datetime) -> None:
    """Priority or kind changed: swap clocks whose target no longer applies (see above)."""
    chosen = _targets(ticket)
    for clock in _active(ticket):
        target = chosen.get(clock.metric)
        if target is None or target.pk == clock.target_id:
            continue
        consumed = clock.consumed_seconds
        if clock.status == ClockStatus.RUNNING and clock.resumed_at is not None:
            consumed += calendar_engine(clock.target.calendar).elapsed(clock.resumed_at, at)
        _cancel(clock, at, f"retargeted to {target.pk}")
        # The new target's budget counts the time already used on the old one.
        new = _start(ticket, target, at, consumed=0, started_at=clock.started_at)
        if new.status == ClockStatus.RUNNING:
            new.consumed_seconds = min(consumed, new.goal_seconds)
            _schedule(new)
            new.save()
        else:
            new.consumed_seconds = min(consumed, new.goal_seconds)
            new.save(update_fields=["consumed_seconds"])
    _refresh_ticket_due(ticket)


def sla_recompute_for_calendars(*, calendar_ids: list[int]) -> int:
    """Recompute the due instants of running clocks on these calendars (their holidays or
    hours changed). Finished clocks keep their verdict. Returns how many moved."""
    moved = 0
    now = timezone.now()
    clocks = SlaClock.objects.filter(
        status=ClockStatus.RUNNING, target__calendar_id__in=calendar_ids
    ).select_related("target__calendar", "ticket")
    for clock in clocks.iterator(chunk_size=500):
        old_due, old_provisional = clock.due_at, clock.provisional
        _schedule(clock)
        if clock.due_at != old_due:
            clock.save(update_fields=["due_at", "warn_at", "next_check_at", "provisional"])
            _event(
                clock,
                SlaEventType.RECOMPUTED,
                now,
                old_due_at=_iso(old_due),
                due_at=_iso(clock.due_at),
            )
            _refresh_ticket_due(clock.ticket)
            moved += 1
        elif clock.provisional != old_provisional:
            clock.save(update_fields=["provisional"])
    return moved


@dataclass(frozen=True)
class SweepResult:
    warned: int
    breached: int


def _breach(clock: SlaClock, now: datetime, act: bool = True) -> bool:
    """Record the breach exactly once: the conditional update lets one sweeper win.
    ``act=False`` when found late by the very event that ends the clock: the record and the
    notification still happen, raising the priority of a ticket being answered does not."""
    assert clock.due_at is not None
    won = SlaClock.objects.filter(
        pk=clock.pk, status=ClockStatus.RUNNING, breached_at__isnull=True
    ).update(
        status=ClockStatus.BREACHED,
        breached_at=clock.due_at,
        next_check_at=None,
        stopped_at=clock.due_at,
    )
    if won != 1:
        return False
    clock.status = ClockStatus.BREACHED
    clock.breached_at = clock.due_at
    _event(clock, SlaEventType.BREACHED, clock.due_at)
    if _REPLAYING.get():
        return True
    tasks.sla_notify.enqueue(clock.pk, "breached")
    first_on_ticket = not (
        SlaClock.objects.filter(ticket_id=clock.ticket_id, status=ClockStatus.BREACHED)
        .exclude(pk=clock.pk)
        .exists()
    )
    breach = Breach(
        ticket_id=clock.ticket_id,
        clock_id=clock.pk,
        metric=clock.metric,
        at=now,
        raise_priority=act and first_on_ticket and clock.target.breach_raise_priority,
    )
    for action in breach_actions():
        action(breach)
    return True


def _warn(clock: SlaClock, now: datetime) -> bool:
    won = SlaClock.objects.filter(
        pk=clock.pk, status=ClockStatus.RUNNING, warned_at__isnull=True
    ).update(warned_at=clock.warn_at, next_check_at=clock.due_at)
    if won != 1:
        return False
    assert clock.warn_at is not None
    _event(clock, SlaEventType.WARNED, clock.warn_at, due_at=_iso(clock.due_at))
    tasks.sla_notify.enqueue(clock.pk, "warned")
    return True


def sla_sweep(*, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    """Record the warnings and breaches that are due. Reads only clocks whose
    ``next_check_at`` has passed (an index); safe to run in several processes at once."""
    now = now or timezone.now()
    warned = breached = 0
    due_ids = list(
        SlaClock.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due_ids:
        with transaction.atomic():
            clock = (
                SlaClock.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("target__calendar")
                .filter(pk=pk, status=ClockStatus.RUNNING)
                .first()
            )
            if clock is None:
                continue
            if clock.due_at is not None and clock.due_at <= now:
                if clock.warned_at is None and clock.warn_at and clock.warn_at < clock.due_at:
                    warned += _warn(clock, now)
                breached += _breach(clock, now)
                _refresh_ticket_due(Ticket.objects.get(pk=clock.ticket_id))
            elif clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
                warned += _warn(clock, now)
    return SweepResult(warned, breached)


class ReplayStep(Protocol):
    """One recorded step of a ticket's history (``kefu.tickets.workflow.Step`` is one):
    ``kind`` ``reply`` (a public agent reply), ``status`` or ``reopened`` (to ``new``), or
    ``escalated``."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def new(self) -> str: ...


@contextmanager
def _replaying() -> Iterator[None]:
    token = _REPLAYING.set(True)
    try:
        yield
    finally:
        _REPLAYING.reset(token)


@transaction.atomic(savepoint=False)
def sla_replay(
    *,
    ticket: Ticket,
    steps: Iterable[ReplayStep],
    now: datetime | None = None,
    targets: Mapping[str, SlaTarget] | None = None,
) -> None:
    """Give a ticket with a recorded history (imported, or the demo's) the SLA clocks the
    live hooks would have given it: clocks start at its creation and go through its steps
    (time-ordered) as they would have then. A reply counts as accepted by its transport at
    its own instant (imported history was delivered by its source system).

    A clock whose due instant passed unmet before ``now`` is recorded breached at that
    instant, and whatever breaches during the replay is recorded alike — without notifying
    anyone or raising a priority: it is history. Clocks still running after ``now`` are
    left to the sweeper. ``ticket.status`` is its final status (kept); the ticket must have
    no clocks yet. ``targets``: :func:`sla_targets_for` the ticket, when already read."""
    targets = _targets(ticket) if targets is None else targets
    if not targets:
        return
    now = now or timezone.now()
    final = ticket.status
    ticket.status = Status.NEW
    try:
        with _replaying():
            sla_ticket_created(ticket=ticket, at=ticket.created_at, targets=targets)
            for step in steps:
                if step.kind == "reply":
                    sla_on_reply(ticket=ticket, at=step.at)
                elif step.kind == "escalated":
                    sla_on_escalated(ticket=ticket, at=step.at)
                else:
                    sla_on_status(ticket=ticket, old=ticket.status, new=step.new, at=step.at)
                    ticket.status = step.new
            overdue = [c for c in _active(ticket) if c.status == ClockStatus.RUNNING and c.due_at]
            for clock in overdue:
                if clock.due_at is not None and clock.due_at <= now:
                    _breach(clock, now, act=False)
            if overdue:
                _refresh_ticket_due(ticket)
    finally:
        ticket.status = final
