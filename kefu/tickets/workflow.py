"""The ticket state machine: which status a ticket may move to from each status, used by
the ticket services for every live change and by the history import to check a ticket's
recorded history (:func:`history_walk`) before anything of it is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kefu.tickets.models import OPEN_STATUSES, Status

# Which status an agent may move a ticket to from each status. Reopening is its own
# transition (resolved/closed -> open) and is recorded as a ``reopened`` event.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

REPLY = "reply"
STATUS = "status"
REOPENED = "reopened"
ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened to a ticket, in time order. ``kind`` is ``reply`` (a public
    agent reply), ``status`` or ``reopened`` (``old`` → ``new``) or ``escalated``.
    ``implied`` marks a change nobody recorded but the ticket went through: a new ticket
    becomes open with its first reply, as a live reply makes it."""

    at: datetime
    kind: str
    old: str = ""
    new: str = ""
    implied: bool = False


class HistoryError(ValueError):
    """An impossible history: ``field`` names the record field (``events.2.type``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field}: {message}")
        self.field = field


_TARGET = {
    "open": Status.OPEN,
    "pending": Status.PENDING,
    "resolved": Status.RESOLVED,
    "closed": Status.CLOSED,
}


def history_walk(
    *,
    created_at: datetime,
    messages: Sequence[tuple[datetime, str]],
    events: Sequence[tuple[datetime, str]],
) -> list[Step]:
    """Check a ticket's history against the state machine and return it as steps.

    ``messages``: (instant, direction ``in``/``out``/``note``); ``events``: (instant,
    ``pending``/``open``/``resolved``/``closed``/``reopened``/``escalated``), in record
    order. Everything is taken in time order, a message before an event of the same
    instant, events of one instant in record order. The ticket starts ``new``; a reply
    opens a new ticket. A status event to the status the ticket is already in changes
    nothing and gives no step.

    Raises HistoryError for an event or a reply before the ticket was created, a move the
    state machine forbids (closed → pending), ``reopened`` of a ticket that is not resolved
    or closed, and ``escalated`` of a resolved or closed ticket. Customer messages and notes
    may predate the ticket (it was opened from them)."""
    timeline: list[tuple[datetime, int, int, str]] = [
        (at, 0, i, direction) for i, (at, direction) in enumerate(messages) if direction == "out"
    ]
    timeline += [(at, 1, i, kind) for i, (at, kind) in enumerate(events)]
    timeline.sort(key=lambda item: item[:3])
    status: str = Status.NEW
    steps: list[Step] = []
    for at, source, index, what in timeline:
        where = f"{'events' if source else 'messages'}.{index}"
        if at < created_at:
            what_text = "event" if source else "reply"
            raise HistoryError(f"{where}.at", f"{what_text} before the ticket was created")
        if not source:
            steps.append(Step(at, REPLY))
            if status == Status.NEW:
                steps.append(Step(at, STATUS, Status.NEW, Status.OPEN, implied=True))
                status = Status.OPEN
            continue
        if what == ESCALATED:
            if status not in OPEN_STATUSES:
                raise HistoryError(f"{where}.type", f"escalated while {status}")
            steps.append(Step(at, ESCALATED))
            continue
        if what == REOPENED:
            if status not in (Status.RESOLVED, Status.CLOSED):
                raise HistoryError(f"{where}.type", f"reopened while {status}")
            steps.append(Step(at, REOPENED, status, Status.OPEN))
            status = Status.OPEN
            continue
        new = _TARGET[what]
        if new == status:
            continue
        if new not in STATUS_TRANSITIONS[status]:
            raise HistoryError(f"{where}.type", f"{status} cannot become {new}")
        reopened = status in (Status.RESOLVED, Status.CLOSED)
        steps.append(Step(at, REOPENED if reopened else STATUS, status, new))
        status = new
    return steps


def history_status(steps: Sequence[Step]) -> str:
    """The status a ticket is in after its steps."""
    for step in reversed(steps):
        if step.new:
            return step.new
    return Status.NEW
