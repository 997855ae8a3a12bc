"""A breached clock stays visible: the queue and the ticket page show it overdue, and the
"least time left" order puts it first, until the event that would have met it happens."""

from __future__ import annotations

import importlib
import re
from datetime import datetime

from kefu.conftest import Tenant, deliver_queued, login
from kefu.sla.models import ClockStatus, SlaClock
from kefu.sla.services import sla_sweep
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import selectors, services
from kefu.tickets.models import Ticket


def _new(t: Tenant, at: datetime, channel: str) -> Ticket:
    with frozen(at):
        return services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="厨房热水器漏水",
            channel=channel,
            actor=t.agent,
            created_at=at,
        )


def _get(t: Tenant, url: str, at: datetime) -> tuple[list[int], str]:
    http = login(t.agent)
    with frozen(at):
        page = http.get(url)
    assert page.status_code == 200
    return [row.pk for row in page.context["tickets"]], page.content.decode()


def _row(page: str, ticket: Ticket) -> str:
    match = re.search(rf'<tr[^>]*data-href="/tickets/{ticket.pk}/"[^>]*>.*?</tr>', page, re.S)
    assert match, ticket.number
    return match.group(0)


def test_breached_ticket_shows_overdue_and_sorts_first(sla_tenant: Tenant) -> None:
    t = sla_tenant
    older = _new(t, sh(2026, 11, 23, 9, 0), "chat")  # first response due 09:01
    newer = _new(t, sh(2026, 11, 23, 9, 30), "chat")  # due 09:31
    email = _new(t, sh(2026, 11, 23, 9, 0), "email")  # acknowledge due 11:00
    assert sla_sweep(now=sh(2026, 11, 23, 10, 0)).breached == 2
    order, page = _get(t, "/tickets/?sort=due&status=", sh(2026, 11, 23, 10, 0))
    # Most overdue first, then time left, then the fixture's ticket that has no clock.
    assert order == [older.pk, newer.pk, email.pk, t.ticket.pk]
    assert 'class="countdown late"' in _row(page, older) and "已超时 59分" in _row(page, older)
    assert "已超时 29分" in _row(page, newer)
    assert "剩 1小时" in _row(page, email) and "late" not in _row(page, email)
    # The ticket page says how long the first response is overdue, in red.
    detail = login(t.agent)
    with frozen(sh(2026, 11, 23, 10, 0)):
        ticket_page = detail.get(f"/tickets/{older.pk}/").content.decode()
    assert '<span class="countdown late"' in ticket_page and "已超时 59分" in ticket_page


def test_overdue_in_english(sla_tenant: Tenant) -> None:
    t = sla_tenant
    chat = _new(t, sh(2026, 11, 23, 9, 0), "chat")
    sla_sweep(now=sh(2026, 11, 23, 11, 1))
    http = login(t.agent)
    http.post("/account/language/", {"language": "en", "next": "/tickets/"})
    with frozen(sh(2026, 11, 23, 11, 1)):
        page = http.get("/tickets/?sort=due&status=").content.decode()
    assert "overdue 2 h" in _row(page, chat)


def test_reply_ends_the_overdue_and_keeps_the_verdict(
    sla_tenant: Tenant, loopback_chat: object
) -> None:
    t = sla_tenant
    chat = _new(t, sh(2026, 11, 23, 9, 0), "chat")
    sla_sweep(now=sh(2026, 11, 23, 10, 0))
    with frozen(sh(2026, 11, 23, 10, 5)):
        services.ticket_reply(ticket=chat, actor=t.agent, body="您好", at=sh(2026, 11, 23, 10, 5))
        deliver_queued()  # accepted by the chat transport at once
    clock = SlaClock.objects.get(ticket=chat, metric="first_response")
    assert clock.status == ClockStatus.BREACHED and clock.met_at == sh(2026, 11, 23, 10, 5)
    _order, page = _get(t, "/tickets/?sort=due&status=", sh(2026, 11, 23, 10, 10))
    assert "已超时" not in _row(page, chat)
    with frozen(sh(2026, 11, 23, 10, 10)):
        ticket_page = login(t.agent).get(f"/tickets/{chat.pk}/").content.decode()
    assert "countdown late" not in ticket_page
    assert '<span class="badge prio-urgent">已超时</span>' in ticket_page


def test_resolved_ticket_is_not_overdue(sla_tenant: Tenant) -> None:
    t = sla_tenant
    chat = _new(t, sh(2026, 11, 23, 9, 0), "chat")
    sla_sweep(now=sh(2026, 11, 23, 10, 0))
    with frozen(sh(2026, 11, 23, 10, 5)):
        services.ticket_set_status(ticket=chat, actor=t.agent, status="resolved")
    assert Ticket.objects.get(pk=chat.pk).sla_due_at is None
    order, page = _get(t, "/tickets/?sort=due&status=", sh(2026, 11, 23, 10, 10))
    assert "已超时" not in _row(page, chat) and order[-2:] == [chat.pk, t.ticket.pk]


def test_least_time_left_pages_run_through_the_tickets_without_a_clock(
    sla_tenant: Tenant,
) -> None:
    t = sla_tenant
    made = [_new(t, sh(2026, 11, 23, 9, m), "chat") for m in (0, 10, 20)]
    sla_sweep(now=sh(2026, 11, 23, 10, 0))
    made.append(_new(t, sh(2026, 11, 23, 9, 55), "email"))
    with frozen(sh(2026, 11, 23, 10, 0)):
        services.ticket_set_status(ticket=made[1], actor=t.agent, status="resolved")
    qs = selectors.ticket_list(user=t.agent, filters=selectors.TicketFilters())
    seen: list[int] = []
    cursor = ""
    for _page in range(10):
        rows, next_cursor = selectors.due_page(qs, after=cursor, size=2)
        seen += [r.pk for r in rows]
        if next_cursor is None:
            break
        cursor = next_cursor
    # made[1] was resolved: no clock, with the fixture's ticket, newest first.
    assert seen == [made[0].pk, made[2].pk, made[3].pk, made[1].pk, t.ticket.pk]


def test_upgrade_finds_when_earlier_breaches_were_answered(
    sla_tenant: Tenant, loopback_chat: object
) -> None:
    """Clocks breached by the sweeper before this release never got ``met_at``; the data
    migration finds it in the ticket's records, so an answered ticket does not turn up
    overdue, and an unanswered one does."""
    from django.apps import apps

    settle = importlib.import_module("kefu.sla.migrations.0002_overdue_breaches")
    t = sla_tenant
    answered = _new(t, sh(2026, 11, 23, 9, 0), "chat")
    waiting = _new(t, sh(2026, 11, 23, 9, 0), "chat")
    sla_sweep(now=sh(2026, 11, 23, 10, 0))
    with frozen(sh(2026, 11, 23, 10, 5)):
        services.ticket_reply(
            ticket=answered, actor=t.agent, body="您好", at=sh(2026, 11, 23, 10, 5)
        )
        deliver_queued()
    # As the earlier release left them: no instant, the ticket due on its running clocks.
    SlaClock.objects.filter(status=ClockStatus.BREACHED).update(met_at=None)
    Ticket.objects.filter(pk=waiting.pk).update(sla_due_at=sh(2026, 11, 23, 11, 0))
    settle.settle_breaches(apps, None)
    fr = SlaClock.objects.get(ticket=answered, metric="first_response")
    assert fr.status == ClockStatus.BREACHED and fr.met_at == sh(2026, 11, 23, 10, 5)
    assert SlaClock.objects.get(ticket=waiting, metric="first_response").met_at is None
    assert Ticket.objects.get(pk=waiting.pk).sla_due_at == sh(2026, 11, 23, 9, 1)
    # The answered one is due on its next progress update (7.5 business hours on).
    assert Ticket.objects.get(pk=answered.pk).sla_due_at == sh(2026, 11, 24, 10, 5)
