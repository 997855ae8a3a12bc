"""The history import: numbered from the same sequence as live tickets, checked against the
ticket state machine line by line, and replayed into SLA clocks so that an imported month
has its SLA figures."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from kefu.calendars.services import calendar_load
from kefu.conftest import Tenant
from kefu.reports.importer import ImportFileError, TicketIn, import_history
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.tickets import services
from kefu.tickets.models import Message, Ticket, TicketEvent

FIXTURE = Path(__file__).parent / "fixtures" / "history.jsonl"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SH = ZoneInfo("Asia/Shanghai")


def _import(path: Path) -> str:
    out = io.StringIO()
    call_command("import", "--client", "ACME", str(path), stdout=out)
    return out.getvalue()


def _report(month: str) -> dict[str, dict[str, object]]:
    out = io.StringIO()
    call_command(
        "report", "monthly", "--client", "ACME", "--month", month, "--format", "json", stdout=out
    )
    kpis: dict[str, dict[str, object]] = json.loads(out.getvalue())["kpis"]
    return kpis


def test_imported_and_live_tickets_share_one_numbering(tenant_a: Tenant) -> None:
    first = services.ticket_create(
        client=tenant_a.client,
        subject="十月来电",
        body="x",
        channel="phone",
        created_at=datetime(2026, 10, 1, 9, 0, tzinfo=SH),
    )
    _import(FIXTURE)
    last = services.ticket_create(
        client=tenant_a.client,
        subject="十月来电",
        body="x",
        channel="phone",
        created_at=datetime(2026, 10, 31, 9, 0, tzinfo=SH),
    )
    imported = list(
        Ticket.objects.filter(client=tenant_a.client, external_id__startswith="T")
        .order_by("id")
        .values_list("number", flat=True)
    )
    # All of 2026, numbered in the file's order, between the two live tickets (the
    # fixture's own ticket is numbered in this year, which may be 2026 too).
    start = int(first.number.removeprefix("KF-2026-"))
    assert imported == [f"KF-2026-{n:06d}" for n in range(start + 1, start + 9)]
    assert last.number == f"KF-2026-{start + 9:06d}"


def _with_events(line: int, events: list[dict[str, str]]) -> str:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line - 1])
    record["events"] = events
    lines[line - 1] = json.dumps(record, ensure_ascii=False)
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("events", "error"),
    [
        # T3 was created 2026-10-10 14:00 and answered at 14:05.
        (
            [{"at": "2026-10-10T13:00:00+08:00", "type": "resolved"}],
            r"line 3: field events\.0\.at: event before the ticket was created",
        ),
        (
            [
                {"at": "2026-10-10T15:00:00+08:00", "type": "closed"},
                {"at": "2026-10-10T16:00:00+08:00", "type": "pending"},
            ],
            r"line 3: field events\.1\.type: closed cannot become pending",
        ),
        (
            [{"at": "2026-10-10T15:00:00+08:00", "type": "reopened"}],
            r"line 3: field events\.0\.type: reopened while open",
        ),
        (
            [
                {"at": "2026-10-10T16:00:00+08:00", "type": "escalated"},
                {"at": "2026-10-10T15:00:00+08:00", "type": "resolved"},
            ],
            r"line 3: field events\.0\.type: escalated while resolved",
        ),
    ],
)
def test_an_impossible_history_names_its_line_and_nothing_is_imported(
    tenant_a: Tenant, tmp_path: Path, events: list[dict[str, str]], error: str
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(_with_events(3, events), encoding="utf-8")
    counts = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count())
    with pytest.raises(CommandError, match=error + ".*nothing was imported"):
        _import(path)
    assert (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count()) == counts


def test_records_given_directly_are_checked_too(tenant_a: Tenant) -> None:
    """The demo hands records to the importer without a file: the same refusal, the same
    nothing-written."""
    at = datetime(2026, 10, 8, 9, 0, tzinfo=SH)
    good = TicketIn.model_validate(
        {"type": "ticket", "id": "G", "channel": "chat", "subject": "好", "created_at": at}
    )
    bad = TicketIn.model_validate(
        {
            "type": "ticket",
            "id": "B",
            "channel": "chat",
            "subject": "坏",
            "created_at": at,
            "events": [{"at": at, "type": "closed"}, {"at": at, "type": "pending"}],
        }
    )
    before = Ticket.objects.count()
    with pytest.raises(ImportFileError, match=r"line 7: field events\.1\.type"):
        import_history(client=tenant_a.client, records=[(4, good), (7, bad)])
    assert Ticket.objects.count() == before


def test_status_history_follows_the_state_machine(tenant_a: Tenant) -> None:
    _import(FIXTURE)
    t4 = Ticket.objects.get(client=tenant_a.client, external_id="T4")
    changes = [(e.type, e.data.get("old"), e.data.get("new")) for e in t4.events.order_by("at")]
    # Answered first (open, as a live reply makes it: not recorded), then resolved,
    # reopened, resolved again.
    assert changes == [
        ("created", None, None),
        ("status", "open", "resolved"),
        ("reopened", "resolved", "open"),
        ("status", "open", "resolved"),
    ]
    t8 = Ticket.objects.get(client=tenant_a.client, external_id="T8")
    assert [(e.data.get("old"), e.data.get("new")) for e in t8.events.filter(type="status")] == [
        ("new", "resolved")
    ]


POLICY = """
client: ACME
name: 历史协议
targets:
  - {metric: first_response, minutes: 90, calendar: 7x24}
  - {metric: resolution, minutes: 1500, calendar: 7x24}
"""


def test_an_imported_month_has_its_sla_figures(tenant_a: Tenant) -> None:
    calendar_load(text=(EXAMPLES / "calendars" / "7x24.yaml").read_text(encoding="utf-8"))
    sla_policy_load(text=POLICY)
    _import(FIXTURE)
    kpis = _report("2026-10")
    # October's tickets: T1 T2 T3 T4 T5 T7 T8. First response within 90 min: T1 T2 T3 T4
    # met; T5 answered after a weekend and T7 never: breached; T8 resolved on the call
    # without a reply (its clock cancelled).
    assert kpis["sla.first_response"] == {"value": 4 / 6, "numerator": 4, "denominator": 6}
    # Resolution within 25 h: T1 T2 T3 T8, and T4 twice (resolved, reopened, resolved
    # again); T5 and the still open T7 breached.
    assert kpis["sla.resolution"] == {"value": 6 / 8, "numerator": 6, "denominator": 8}
    first_response = kpis["first_response"]
    assert first_response["denominator"] == 5
    assert first_response["within_target"] == {"value": 0.8, "numerator": 4, "denominator": 5}
    # Recorded at the due instant, as history: nobody is notified of last year's breaches.
    t7 = Ticket.objects.get(client=tenant_a.client, external_id="T7")
    clocks = SlaClock.objects.filter(ticket=t7)
    assert {c.status for c in clocks} == {ClockStatus.BREACHED}
    assert all(c.breached_at == c.due_at for c in clocks)
    # Still open, so the queue shows it overdue since its first breach.
    assert t7.sla_due_at == min(c.due_at for c in clocks if c.due_at)
    assert not DBTaskResult.objects.filter(task_path__endswith="sla_notify").exists()
    # Imported again: nothing new, no second set of clocks.
    count = SlaClock.objects.count()
    assert "ticket: 0 created, 8 already imported" in _import(FIXTURE)
    assert SlaClock.objects.count() == count
