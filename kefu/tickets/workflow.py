"""The ticket state machine: which status a ticket may move to from each status, used by
the ticket services for every live change and by the history import to check a ticket's
recorded history (:func:`history_walk`) before anything of it is written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

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


class Step(NamedTuple):
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


# Plain strings (the enum's values): the import walks millions of histories.
_NEW, _OPEN = str(Status.NEW.value), str(Status.OPEN.value)
_UNRESOLVED = frozenset(str(s.value) for s in OPEN_STATUSES)
_DONE = frozenset({str(Status.RESOLVED.value), str(Status.CLOSED.value)})
_TARGET = {name: str(Status(name).value) for name in ("open", "pending", "resolved", "closed")}


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
    # (instant, 0 for a reply / 1 for an event, its index): a message sorts before an event
    # of the same instant, events of one instant keep their order.
    timeline = [(at, 0, i, d) for i, (at, d) in enumerate(messages) if d == "out"]
    timeline += [(at, 1, i, kind) for i, (at, kind) in enumerate(events)]
    timeline.sort()
    status = _NEW
    steps: list[Step] = []
    for at, source, index, what in timeline:
        if at < created_at:
            what_text = "event" if source else "reply"
            raise _error(source, index, "at", f"{what_text} before the ticket was created")
        if not source:
            steps.append(Step(at, REPLY))
            if status == _NEW:
                steps.append(Step(at, STATUS, _NEW, _OPEN, implied=True))
                status = _OPEN
        elif what == ESCALATED:
            if status not in _UNRESOLVED:
                raise _error(source, index, "type", f"escalated while {status}")
            steps.append(Step(at, ESCALATED))
        elif what == REOPENED:
            if status not in _DONE:
                raise _error(source, index, "type", f"reopened while {status}")
            steps.append(Step(at, REOPENED, status, _OPEN))
            status = _OPEN
        else:
            new = _TARGET[what]
            if new == status:
                continue
            if new not in STATUS_TRANSITIONS[status]:
                raise _error(source, index, "type", f"{status} cannot become {new}")
            steps.append(Step(at, REOPENED if status in _DONE else STATUS, status, new))
            status = new
    return steps


def _error(source: int, index: int, field: str, message: str) -> HistoryError:
    return HistoryError(f"{'events' if source else 'messages'}.{index}.{field}", message)


def history_status(steps: Sequence[Step]) -> str:
    """The status a ticket is in after its steps."""
    for step in reversed(steps):
        if step.new:
            return step.new
    return _NEW
