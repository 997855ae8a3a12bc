from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kefu.conftest import Tenant
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import services
from kefu.tickets.models import EventType, TicketEvent
from kefu.tickets.promises import PromiseSweepResult, escalation_promise_sweep


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_record_each_overdue_promise_once(tenant_a: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent sweepers with row locks (CI runs it)")
    at = sh(2026, 11, 23, 9, 0)
    with frozen(at):
        for i in range(30):
            ticket = services.ticket_create(
                client=tenant_a.client, subject=f"上门维修{i}", body="x", channel="phone"
            )
            services.ticket_escalate(
                ticket=ticket,
                actor=tenant_a.agent,
                department=tenant_a.department,
                reason="需要安排师傅",
                expected_by=sh(2026, 11, 23, 12, 0),
            )
    results: list[PromiseSweepResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweeper() -> None:
        try:
            barrier.wait()
            results.append(escalation_promise_sweep(now=sh(2026, 11, 23, 13, 0)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.overdue for r in results) == 30
    overdue = TicketEvent.objects.filter(type=EventType.ESCALATION_OVERDUE)
    assert overdue.count() == 30
    assert overdue.values("ticket_id").distinct().count() == 30
