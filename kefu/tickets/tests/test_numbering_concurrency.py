"""Ticket numbers from several processes at once: each number once, none skipped."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kefu.conftest import Tenant
from kefu.tickets import services
from kefu.tickets.models import Ticket


@pytest.mark.django_db(transaction=True)
def test_creators_racing_get_distinct_consecutive_numbers(tenant_a: Tenant) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers (CI runs it)")
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def creator(k: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                services.ticket_create(
                    client=tenant_a.client, subject=f"并发{k}-{i}", body="x", channel="api"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=creator, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(
        int(n.rsplit("-", 1)[1])
        for n in Ticket.objects.filter(client=tenant_a.client).values_list("number", flat=True)
    )
    assert numbers == list(range(1, 32))  # the tenant's own ticket is number 1
