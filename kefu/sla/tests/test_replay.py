"""Replaying a recorded history (sla_replay, through the history import) gives a ticket the
clocks the live hooks would have given it, and tells nobody about breaches long past."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from kefu.conftest import Tenant, deliver_queued
from kefu.reports.importer import TicketIn, import_history
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import services
from kefu.tickets.models import Delivery, Ticket


def _clocks(ticket: Ticket) -> list[tuple[Any, ...]]:
    return [
        (
            c.metric,
            c.status,
            c.started_at,
            c.due_at,
            c.met_at,
            c.breached_at,
            c.stopped_at,
            c.consumed_seconds,
        )
        for c in SlaClock.objects.filter(ticket=ticket).order_by("metric", "started_at", "id")
    ]


def _imported(tenant: Tenant, created: datetime, messages: list[Any], events: list[Any]) -> Ticket:
    record = TicketIn.model_validate(
        {
            "type": "ticket",
            "id": "H1",
            "channel": "email",
            "subject": "历史工单",
            "created_at": created,
            "messages": [
                {"at": at, "direction": d, "author": "customer" if d == "in" else "agent:li.na",
                 "body": "x"}
                for at, d in messages
            ],
            "events": [{"at": at, "type": t} for at, t in events],
        }
    )  # fmt: skip
    import_history(client=tenant.client, records=[(1, record)])
    return Ticket.objects.get(client=tenant.client, external_id="H1")


@pytest.mark.parametrize("late", [False, True], ids=["kept", "breached"])
def test_replayed_history_has_the_clocks_a_live_ticket_gets(sla_tenant: Tenant, late: bool) -> None:
    created = sh(2026, 10, 12, 10, 0)  # a Monday
    reply = sh(2026, 10, 16, 15, 0) if late else sh(2026, 10, 12, 10, 30)
    pending, back = sh(2026, 10, 16, 15, 1), sh(2026, 10, 19, 14, 0)
    second, resolved = sh(2026, 10, 19, 15, 0), sh(2026, 10, 20, 11, 0)

    live = services.ticket_create(
        client=sla_tenant.client,
        subject="实时工单",
        body="x",
        channel="email",
        customer=services.CustomerData(email="kehu@example.com"),
        created_at=created,
    )
    agent = sla_tenant.agent

    def replied(body: str, at: datetime) -> None:
        # Accepted by the mail transport at the instant of the reply.
        with frozen(at):
            message = services.ticket_reply(ticket=live, actor=agent, body=body, at=at)
            deliver_queued()
        assert Delivery.objects.get(message=message).accepted_at == at

    replied("您好", reply)
    services.ticket_set_status(ticket=live, actor=agent, status="pending", at=pending)
    services.ticket_set_status(ticket=live, actor=agent, status="open", at=back)
    replied("已处理", second)
    services.ticket_set_status(ticket=live, actor=agent, status="resolved", at=resolved)
    notified = DBTaskResult.objects.filter(task_path__endswith="sla_notify").count()

    history = _imported(
        sla_tenant,
        created,
        [(created, "in"), (reply, "out"), (second, "out")],
        [(pending, "pending"), (back, "open"), (resolved, "resolved")],
    )
    assert _clocks(history) == _clocks(live)
    first_response = [c for c in _clocks(history) if c[0] == "first_response"]
    assert [c[1] for c in first_response] == [ClockStatus.BREACHED if late else ClockStatus.MET]
    # The live ticket's late reply told people; the imported one told nobody.
    assert DBTaskResult.objects.filter(task_path__endswith="sla_notify").count() == notified


def test_an_open_history_ticket_past_due_is_breached_at_its_due_instant(
    sla_tenant: Tenant,
) -> None:
    created = sh(2026, 10, 12, 10, 0)
    ticket = _imported(sla_tenant, created, [(created, "in")], [])
    clocks = SlaClock.objects.filter(ticket=ticket)
    assert {c.metric for c in clocks} == {"acknowledge", "first_response", "resolution"}
    assert all(c.status == ClockStatus.BREACHED and c.breached_at == c.due_at for c in clocks)
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert ticket.sla_due_at == min(c.due_at for c in clocks if c.due_at)  # shown overdue
    assert ticket.priority == "normal"  # history: no priority raised
