"""The completion time promised on an escalation, watched.

When an agent escalates a ticket to a client department, kefu tells the customer when the
department will have answered (``Escalation.expected_by``). That promise is watched here:

- It is a wall-clock instant the customer was given, not a business-time budget: no
  calendar, no pause while the ticket waits on the customer, no contract target behind it.
  For that reason it is not an SLA clock (kefu/sla/): it never enters the ``sla.*``
  compliance figures, the SLA at-risk list, the ticket's ``sla_due_at`` or the
  priority raise on breach.
- The department (its active members and its shared address) and the ticket's agent (the
  assignee, and the agent who escalated) are warned when 80 % of the span from the
  escalation to the promised time has passed (``PROMISE_WARN_PERCENT``): a two-day promise
  warns about ten hours before, a two-hour promise 24 minutes before.
- Once ``expected_by`` passes unanswered the escalation is overdue (逾期): recorded once, at
  that instant, as a ticket event, and the same people are told. Pages show an open
  escalation past its time as overdue at once, whether or not the sweeper has run.
- Answering the escalation stops the watch. An answer after the promised time keeps the
  overdue record. The watch follows the escalation, not the ticket: a ticket resolved
  while its escalation is open still has a department that owes an answer.
- A sweeper that finds both the warning and the due instant passed (it was not running)
  records only the overdue: a warning after the fact helps nobody.

The sweeper reads only escalations whose ``next_check_at`` has passed (a partial index),
and each warning and overdue is recorded by a conditional update, so several sweepers can
run at once and each event is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kefu.tickets import tasks
from kefu.tickets.models import Escalation, EscalationStatus, EventType, TicketEvent

PROMISE_WARN_PERCENT = 80


def promise_warn_at(*, created_at: datetime, expected_by: datetime) -> datetime:
    """When the people who owe the answer are warned: ``PROMISE_WARN_PERCENT`` of the way
    from the escalation to the promised instant (wall-clock time)."""
    return created_at + (expected_by - created_at) * PROMISE_WARN_PERCENT / 100


@dataclass(frozen=True)
class PromiseSweepResult:
    warned: int
    overdue: int


def _record(escalation: Escalation, type_: str, at: datetime) -> None:
    TicketEvent.objects.create(
        client_id=escalation.client_id,
        ticket_id=escalation.ticket_id,
        type=type_,
        actor=None,
        at=at,
        data={
            "escalation": escalation.pk,
            "department": escalation.department.name,
            "expected_by": escalation.expected_by.isoformat(),
        },
    )


def _warn(escalation: Escalation) -> bool:
    assert escalation.warn_at is not None
    won = Escalation.objects.filter(
        pk=escalation.pk, status=EscalationStatus.OPEN, warned_at__isnull=True
    ).update(warned_at=escalation.warn_at, next_check_at=escalation.expected_by)
    if won != 1:
        return False
    _record(escalation, EventType.ESCALATION_WARNED, escalation.warn_at)
    tasks.notify_escalation_promise.enqueue(escalation.pk, "warned")
    return True


def _overdue(escalation: Escalation) -> bool:
    won = Escalation.objects.filter(
        pk=escalation.pk, status=EscalationStatus.OPEN, overdue_at__isnull=True
    ).update(overdue_at=escalation.expected_by, next_check_at=None)
    if won != 1:
        return False
    _record(escalation, EventType.ESCALATION_OVERDUE, escalation.expected_by)
    tasks.notify_escalation_promise.enqueue(escalation.pk, "overdue")
    return True


def escalation_promise_sweep(
    *, now: datetime | None = None, limit: int = 1000
) -> PromiseSweepResult:
    """Record the warnings and overdues of escalation promises that are due by ``now``
    (default: the current instant). Safe to run in several processes at once."""
    now = now or timezone.now()
    warned = overdue = 0
    due_ids = list(
        Escalation.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due_ids:
        with transaction.atomic():
            escalation = (
                Escalation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("department")
                .filter(pk=pk, status=EscalationStatus.OPEN)
                .first()
            )
            if escalation is None:
                continue
            if escalation.expected_by <= now:
                overdue += _overdue(escalation)
            elif (
                escalation.warned_at is None
                and escalation.warn_at is not None
                and escalation.warn_at <= now
            ):
                warned += _warn(escalation)
    return PromiseSweepResult(warned, overdue)
