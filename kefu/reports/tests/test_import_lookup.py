"""The history import finds rows imported before through the partial unique indexes on
the source ids, not by reading every row of the client (which made a long import slow
down file after file on SQLite)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.conftest import Tenant
from kefu.phone.models import Call
from kefu.reports.importer.rows import ids_by_key
from kefu.surveys.models import Survey
from kefu.tickets.models import Customer, Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
@pytest.mark.parametrize(
    ("model", "column", "index"),
    [
        (Ticket, "external_id", "ticket_unique_external_id"),
        (Customer, "external_key", "customer_unique_external_key"),
        (Call, "external_id", "call_unique_external_id"),
        (Survey, "external_id", "survey_unique_external_id"),
    ],
)
def test_source_ids_are_looked_up_through_their_unique_index(
    tenant_a: Tenant, model: type, column: str, index: str
) -> None:
    with CaptureQueriesContext(connection) as queries:
        ids_by_key(model, tenant_a.client.pk, column, ["t1", "t2", "t3"])
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert f"INDEX {index} (client_id=? AND {column}=?)" in plan


def test_the_lookup_finds_the_rows_of_its_client_only(tenant_a: Tenant, tenant_b: Tenant) -> None:
    Ticket.objects.filter(pk=tenant_a.ticket.pk).update(external_id="src-1")
    Ticket.objects.filter(pk=tenant_b.ticket.pk).update(external_id="src-1")
    found = ids_by_key(Ticket, tenant_a.client.pk, "external_id", ["src-1", "src-2", ""])
    assert found == {"src-1": tenant_a.ticket.pk}
