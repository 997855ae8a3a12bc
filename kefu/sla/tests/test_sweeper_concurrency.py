from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kefu.conftest import Tenant
from kefu.sla.models import SlaEvent
from kefu.sla.services import SweepResult, sla_sweep
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import services


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_record_each_breach_once(sla_tenant: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent sweepers with row locks (CI runs it)")
    at = sh(2026, 11, 23, 9, 0)
    with frozen(at):
        for i in range(40):
            services.ticket_create(
                client=sla_tenant.client,
                subject=f"在线咨询{i}",
                body="x",
                channel="chat",
                created_at=at,
            )
    results: list[SweepResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweeper() -> None:
        try:
            barrier.wait()
            results.append(sla_sweep(now=sh(2026, 11, 23, 9, 30)))
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
    assert len(results) == 2
    assert sum(r.breached for r in results) == 40
    breached = SlaEvent.objects.filter(type="breached")
    assert breached.count() == 40
    assert breached.values("clock_id").distinct().count() == 40
