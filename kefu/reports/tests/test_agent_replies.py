"""A notice kefu sends by itself (an escalation's expected completion time) reaches the
customer like a reply, but no agent wrote it: it is not the first response, and a chat's
handling time starts at the agent's first reply (DESIGN.md: first response, aht_chat)."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.conftest import LoopbackAdapter, Tenant, deliver_queued, loopback_chat  # noqa: F401
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.sla.tests.conftest import frozen, sh, sla_tenant  # noqa: F401 (fixture)
from kefu.tickets import services
from kefu.tickets.models import Ticket

NOVEMBER = month("2026-11", "Asia/Shanghai")


def _ticket(t: Tenant, channel: str, at: datetime) -> Ticket:
    with frozen(at):
        return services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="厨房热水器漏水",
            channel=channel,
            actor=t.agent,
            customer=t.customer,
            created_at=at,
        )


def _escalate_then_reply(t: Tenant, ticket: Ticket, start: datetime) -> None:
    """Escalated (the customer is told) after 10 minutes, the agent replies after 60."""
    with frozen(start + timedelta(minutes=10)):
        services.ticket_escalate(
            ticket=ticket,
            actor=t.agent,
            department=t.department,
            reason="需要上门检修",
            expected_by=start + timedelta(days=2),
        )
        deliver_queued()
    with frozen(start + timedelta(minutes=60)):
        services.ticket_reply(ticket=ticket, actor=t.agent, body="师傅明天上门")
        deliver_queued()


def test_an_escalation_notice_is_not_the_first_response(sla_tenant: Tenant) -> None:  # noqa: F811
    monday = sh(2026, 11, 23, 10, 0)
    _escalate_then_reply(sla_tenant, _ticket(sla_tenant, "email", monday), monday)
    figure = client_kpis(sla_tenant.client, NOVEMBER)["kpis"]["first_response"]
    assert (figure["value"], figure["denominator"]) == (3600, 1)


def test_chat_handling_time_starts_at_the_agents_reply(
    sla_tenant: Tenant,  # noqa: F811
    loopback_chat: LoopbackAdapter,  # noqa: F811
) -> None:
    monday = sh(2026, 11, 23, 10, 0)
    ticket = _ticket(sla_tenant, "chat", monday)
    _escalate_then_reply(sla_tenant, ticket, monday)
    with frozen(monday + timedelta(minutes=90)):
        services.ticket_set_status(ticket=ticket, actor=sla_tenant.agent, status="resolved")
    # Resolved at 90 min, the agent's reply accepted at 60 min (the notice at 10 min).
    assert client_kpis(sla_tenant.client, NOVEMBER)["kpis"]["aht_chat"] == {
        "value": 1800.0,
        "numerator": 1800.0,
        "denominator": 1,
    }
