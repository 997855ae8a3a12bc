"""The JSON Lines records of a history import and their validation.

:func:`parse_lines` validates a whole file before anything is written: the first bad line
raises :class:`ImportFileError` naming its line number and field."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticError
from pydantic_core import ErrorDetails

from kefu.tickets.workflow import HistoryError, Step, history_walk

# An instant with its UTC offset: a local time without one is ambiguous (checked in
# pydantic's core, so a million timestamps cost no Python call each).
Instant = AwareDatetime


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


Record = TicketIn | CallIn | SurveyIn
# One validator for every line: the ``type`` field picks the model, and the JSON is parsed
# and validated in one pass (no intermediate dicts).
_TAGGED: Any = Annotated[TicketIn | CallIn | SurveyIn, Field(discriminator="type")]
_RECORD: TypeAdapter[Record] = TypeAdapter(_TAGGED)
_NO_OFFSET = "timestamp needs an offset (ISO 8601, e.g. 2026-10-08T09:30:00+08:00)"


class ImportFileError(ValueError):
    """A bad line: names the line number and the field."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def parse_lines(lines: Iterable[str]) -> list[tuple[int, Record]]:
    """Every non-blank line validated, with its line number (1-based). ImportFileError
    on the first bad line: not JSON, an unknown ``type``, a field that does not validate,
    an id that appears twice, call times out of order, a ticket history the ticket state
    machine does not allow (:func:`ticket_steps`)."""
    records: list[tuple[int, Record]] = []
    validate = _RECORD.validate_json
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append((number, validate(line)))
        except PydanticError as exc:
            raise ImportFileError(number, _describe(exc.errors()[0])) from exc
    _check_references(records)
    return records


def _describe(err: ErrorDetails) -> str:
    if err["type"] == "json_invalid":
        return f"not JSON ({err.get('ctx', {}).get('error', err['msg'])})"
    # The first location is the record type picked by the discriminator.
    where = ".".join(str(p) for p in err["loc"][1:])
    if not where or err["type"].startswith("union_tag") or err["type"] == "model_attributes_type":
        return "field type: expected 'ticket', 'call' or 'survey'"
    if err["type"] == "timezone_aware":
        return f"field {where}: {_NO_OFFSET}"
    return f"field {where}: {err['msg']}"


def _check_references(records: list[tuple[int, Record]]) -> None:
    ids: dict[str, set[str]] = defaultdict(set)
    for number, rec in records:
        seen = ids[rec.type]
        if rec.id in seen:
            raise ImportFileError(number, f"field id: duplicate {rec.type} id {rec.id!r}")
        seen.add(rec.id)
        if isinstance(rec, TicketIn):
            ticket_steps(number, rec)
        elif isinstance(rec, CallIn):
            if rec.answered_at and rec.answered_at < rec.offered_at:
                raise ImportFileError(number, "field answered_at: before offered_at")
            if rec.ended_at < (rec.answered_at or rec.offered_at):
                raise ImportFileError(
                    number, "field ended_at: before the call was offered/answered"
                )


def ticket_steps(line: int, ticket: TicketIn) -> list[Step]:
    """The ticket's history as steps of the ticket state machine
    (:func:`kefu.tickets.workflow.history_walk`: an event before the ticket was created, a
    move such as closed → pending, ``reopened`` of an open ticket are refused), or
    ImportFileError naming the line and the field."""
    try:
        return history_walk(
            created_at=ticket.created_at,
            messages=[(m.at, m.direction) for m in ticket.messages],
            events=[(e.at, e.type) for e in ticket.events],
        )
    except HistoryError as exc:
        raise ImportFileError(line, str(exc)) from exc
