"""Bulk edit goes through the single-edit services, a transaction per ticket: events and
clocks as for one, a refused ticket named, the others changed, unseen tickets untouched."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.conftest import Tenant, login
from kefu.tickets import services
from kefu.tickets.bulk import BulkChange, tickets_bulk_update
from kefu.tickets.models import EventType, Status, Ticket

pytestmark = pytest.mark.django_db


def _tickets(t: Tenant, n: int) -> list[Ticket]:
    return [
        services.ticket_create(client=t.client, subject=f"批量{i}", body="x", channel="email")
        for i in range(n)
    ]


def test_assign_status_priority_and_tags_as_single_edits(tenant_a: Tenant) -> None:
    tickets = _tickets(tenant_a, 5)
    ids = [t.pk for t in tickets]
    result = tickets_bulk_update(
        actor=tenant_a.supervisor,
        ticket_ids=ids,
        change=BulkChange(
            assignee=tenant_a.agent, status=Status.OPEN, priority="high", add_tags=["批量"]
        ),
    )
    assert sorted(result.changed) == sorted(t.number for t in tickets) and not result.refused
    for ticket in Ticket.objects.filter(pk__in=ids):
        assert (ticket.assignee_id, ticket.status, ticket.priority) == (
            tenant_a.agent.pk,
            Status.OPEN,
            "high",
        )
        assert [t.name for t in ticket.tags.all()] == ["批量"]
        types = set(ticket.events.values_list("type", flat=True))
        assert {EventType.ASSIGNED, EventType.STATUS, EventType.PRIORITY} <= types


def test_a_refused_ticket_is_named_and_the_others_change(tenant_a: Tenant) -> None:
    tickets = _tickets(tenant_a, 3)
    services.ticket_set_status(ticket=tickets[1], actor=tenant_a.agent, status=Status.CLOSED)
    result = tickets_bulk_update(
        actor=tenant_a.supervisor,
        ticket_ids=[t.pk for t in tickets],
        change=BulkChange(status=Status.PENDING),
    )
    assert [n for n, _why in result.refused] == [tickets[1].number]
    assert "已关闭" in result.refused[0][1]
    assert Ticket.objects.get(pk=tickets[1].pk).status == Status.CLOSED
    assert Ticket.objects.get(pk=tickets[0].pk).status == Status.PENDING


def test_other_clients_tickets_are_not_touched(tenant_a: Tenant, tenant_b: Tenant) -> None:
    result = tickets_bulk_update(
        actor=tenant_a.supervisor,
        ticket_ids=[tenant_a.ticket.pk, tenant_b.ticket.pk],
        change=BulkChange(priority="urgent"),
    )
    assert result.missing == 1 and result.changed == [tenant_a.ticket.number]
    assert Ticket.objects.get(pk=tenant_b.ticket.pk).priority != "urgent"


def test_roles_and_limits(tenant_a: Tenant) -> None:
    with pytest.raises(PermissionDenied):
        tickets_bulk_update(
            actor=tenant_a.auditor,
            ticket_ids=[tenant_a.ticket.pk],
            change=BulkChange(priority="high"),
        )
    with pytest.raises(ValidationError):
        tickets_bulk_update(actor=tenant_a.supervisor, ticket_ids=[1], change=BulkChange())
    with pytest.raises(ValidationError):
        tickets_bulk_update(
            actor=tenant_a.supervisor,
            ticket_ids=list(range(1, 1002)),
            change=BulkChange(priority="high"),
        )


def test_the_queue_page_bulk_form(tenant_a: Tenant, tenant_b: Tenant) -> None:
    tickets = _tickets(tenant_a, 3)
    http = login(tenant_a.supervisor)
    page = http.get("/tickets/").content.decode()
    assert 'id="bulk-form"' in page and f'value="{tickets[0].pk}" form="bulk-form"' in page
    r = http.post(
        "/tickets/bulk/",
        {
            "ids": [str(t.pk) for t in tickets],
            "assignee": str(tenant_a.agent.pk),
            "back": "status=active",
        },
    )
    assert r.status_code == 302 and r["Location"].endswith("/tickets/?status=active")
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("assignee_id", flat=True)
    ) == {tenant_a.agent.pk}
    assert "已批量修改 3 张工单" in http.get("/tickets/").content.decode()
    # An agent of another client cannot be named in the form.
    assert (
        http.post(
            "/tickets/bulk/", {"ids": [str(tickets[0].pk)], "assignee": str(tenant_b.agent.pk)}
        ).status_code
        == 403
    )
