"""First response time in the month's KPIs: business time on the calendar of each ticket's
first-response target (kefu/sla/tests/conftest.py: email tickets, 4 business hours on
cn-standard, Mon–Fri 09:00–12:00 and 13:30–18:00)."""

from __future__ import annotations

from datetime import datetime

from kefu.conftest import Tenant, deliver_queued
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.sla.tests.conftest import frozen, sh, sla_tenant  # noqa: F401 (fixture)
from kefu.tickets import services
from kefu.tickets.delivery import delivery_send
from kefu.tickets.models import Ticket


def _email(t: Tenant, at: datetime) -> Ticket:
    with frozen(at):
        return services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="厨房热水器漏水",
            channel="email",
            actor=t.agent,
            customer=t.customer,  # an email reply needs the customer's address
            created_at=at,
        )


def test_first_response_is_business_time_against_the_target(sla_tenant: Tenant) -> None:  # noqa: F811
    friday_night = _email(sla_tenant, sh(2026, 11, 20, 20, 0))
    monday = _email(sla_tenant, sh(2026, 11, 23, 10, 0))
    _email(sla_tenant, sh(2026, 11, 24, 10, 0))  # no reply yet: not counted
    for ticket, at in ((friday_night, sh(2026, 11, 23, 9, 30)), (monday, sh(2026, 11, 23, 15, 31))):
        with frozen(at):
            services.ticket_reply(ticket=ticket, actor=sla_tenant.agent, body="您好", at=at)
            deliver_queued()

    figure = client_kpis(sla_tenant.client, month("2026-11", "Asia/Shanghai"))["kpis"][
        "first_response"
    ]
    # Friday 20:00 → Monday 09:30: the clock starts at Monday's opening, 30 min.
    # Monday 10:00 → 15:31: 2 h before lunch, 2 h 1 min after: 4 h 1 min, over the 4 h target.
    assert figure["denominator"] == 2
    assert figure["value"] == (1800 + 14460) / 2
    assert figure["median"] == (1800 + 14460) / 2
    assert figure["within_target"] == {"value": 0.5, "numerator": 1, "denominator": 2}


def test_only_replies_that_reached_the_customer_count_at_the_accepted_instant(
    sla_tenant: Tenant,  # noqa: F811
) -> None:

    late = _email(sla_tenant, sh(2026, 11, 23, 10, 0))
    stuck = _email(sla_tenant, sh(2026, 11, 23, 10, 0))
    with frozen(sh(2026, 11, 23, 10, 30)):
        sent = services.ticket_reply(ticket=late, actor=sla_tenant.agent, body="您好")
        services.ticket_reply(ticket=stuck, actor=sla_tenant.agent, body="您好")  # never sent
    with frozen(sh(2026, 11, 23, 11, 0)):
        assert delivery_send(delivery_id=sent.delivery.pk) == "sent"

    kpis = client_kpis(sla_tenant.client, month("2026-11", "Asia/Shanghai"))["kpis"]
    # Clicked at 10:30, accepted at 11:00: one hour; the reply still queued is no response.
    assert kpis["first_response"]["denominator"] == 1
    assert kpis["first_response"]["value"] == 3600
