"""kefu/tickets/numbering.py: the number a new ticket is given, on either database (on
PostgreSQL the number is written by SQL, elsewhere by Python: both must agree)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kefu.conftest import Tenant
from kefu.tickets import services
from kefu.tickets.models import TicketSequence


def _new_ticket(tenant: Tenant, subject: str, at: datetime | None = None) -> str:
    ticket = services.ticket_create(
        client=tenant.client,
        subject=subject,
        body="内容",
        channel="email",
        actor=tenant.agent,
        created_at=at,
    )
    ticket.refresh_from_db()  # what was stored, not only what the service set
    return ticket.number


def test_numbers_keep_six_digits_and_grow_past_them(tenant_a: Tenant) -> None:
    year = timezone.localtime().year
    TicketSequence.objects.filter(client=tenant_a.client, year=year).update(last=999_998)
    numbers = [_new_ticket(tenant_a, f"第{i}张") for i in range(3)]
    assert numbers == [f"KF-{year}-999999", f"KF-{year}-1000000", f"KF-{year}-1000001"]


def test_a_new_year_starts_its_own_sequence_under_the_clients_prefix(tenant_a: Tenant) -> None:
    tenant_a.client.ticket_prefix = "ACME"
    tenant_a.client.save(update_fields=["ticket_prefix"])
    year = timezone.localtime().year + 1
    at = datetime(year, 1, 1, 0, 5, tzinfo=timezone.get_current_timezone())
    numbers = [_new_ticket(tenant_a, f"新年第{i}张", at) for i in range(2)]
    assert numbers == [f"ACME-{year}-000001", f"ACME-{year}-000002"]
    assert _new_ticket(tenant_a, "今年的") == f"ACME-{year - 1}-000002"
