from __future__ import annotations

from datetime import datetime

from django_tasks_db.models import DBTaskResult

from kefu.conftest import Tenant, run_tasks
from kefu.sla.models import ClockStatus, SlaClock, SlaEvent
from kefu.sla.services import sla_sweep
from kefu.sla.tests.conftest import frozen, sh
from kefu.tickets import services
from kefu.tickets.models import Ticket


def _new(t: Tenant, at: datetime, channel: str = "email", priority: str = "normal") -> Ticket:
    with frozen(at):
        return services.ticket_create(
            client=t.client,
            subject="热水器漏水",
            body="厨房热水器漏水",
            channel=channel,
            actor=t.agent,
            created_at=at,
            priority=priority,
        )


def _clock(ticket: Ticket, metric: str) -> SlaClock:
    return SlaClock.objects.exclude(status=ClockStatus.CANCELLED).get(ticket=ticket, metric=metric)


def test_email_friday_evening_counts_from_monday_opening(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 20, 20, 0))  # Friday 20:00
    clock = _clock(ticket, "first_response")
    # 4 business hours: 09:00-12:00 Monday, then one hour after lunch.
    assert clock.due_at == sh(2026, 11, 23, 14, 30)
    assert _clock(ticket, "acknowledge").due_at == sh(2026, 11, 23, 11, 0)
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == sh(2026, 11, 23, 11, 0)


def test_target_using_the_morning_exactly_is_due_at_noon(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 23, 10, 0))
    assert _clock(ticket, "acknowledge").due_at == sh(2026, 11, 23, 12, 0)


def test_chat_first_response_within_a_minute(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 23, 10, 0, 0), channel="chat")
    assert _clock(ticket, "first_response").due_at == sh(2026, 11, 23, 10, 1, 0)


def test_urgent_first_response_runs_around_the_clock(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 21, 23, 0), priority="urgent")  # Saturday night
    assert _clock(ticket, "first_response").due_at == sh(2026, 11, 22, 1, 0)


def test_spring_festival_and_make_up_saturday(sla_tenant: Tenant) -> None:
    # 2026-02-13 (Friday) 17:00 → the Spring Festival holiday starts on the 15th; the
    # Saturday 2026-02-14 is a make-up working day (调休) with Monday's hours.
    ticket = _new(sla_tenant, sh(2026, 2, 13, 17, 0))
    assert _clock(ticket, "first_response").due_at == sh(2026, 2, 14, 12, 0)


def test_reply_meets_and_pending_pauses(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket = _new(t, sh(2026, 11, 23, 9, 0))
    with frozen(sh(2026, 11, 23, 10, 0)):
        services.ticket_reply(
            ticket=ticket,
            actor=t.agent,
            body="请提供照片",
            new_status="pending",
            at=sh(2026, 11, 23, 10, 0),
        )
    fr = _clock(ticket, "first_response")
    assert fr.status == ClockStatus.MET and fr.met_at == sh(2026, 11, 23, 10, 0)
    res = _clock(ticket, "resolution")
    assert res.status == ClockStatus.PAUSED and res.consumed_seconds == 3600
    nxt = _clock(ticket, "next_response")
    assert nxt.status == ClockStatus.PAUSED and nxt.consumed_seconds == 0
    # The customer answers on Tuesday 09:00: clocks resume with what was left.
    with frozen(sh(2026, 11, 24, 9, 0)):
        services.ticket_add_customer_message(
            ticket=ticket, body="照片见附件", at=sh(2026, 11, 24, 9, 0)
        )
    res.refresh_from_db()
    assert res.status == ClockStatus.RUNNING
    # 37.5 h budget, 1 h used: 36.5 h of 7.5 h days from Tue 09:00 ends Mon 17:00.
    assert res.due_at == sh(2026, 11, 30, 17, 0)
    types = list(SlaEvent.objects.filter(clock=res).values_list("type", flat=True))
    assert types == ["started", "paused", "resumed"]


def test_priority_change_retargets_from_the_same_start(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket = _new(t, sh(2026, 11, 23, 9, 0))
    with frozen(sh(2026, 11, 23, 10, 0)):
        services.ticket_update(ticket=ticket, actor=t.agent, priority="urgent")
    old = SlaClock.objects.get(ticket=ticket, metric="resolution", status="cancelled")
    new = _clock(ticket, "resolution")
    assert new.target_id != old.target_id and new.started_at == sh(2026, 11, 23, 9, 0)
    # 4 h around the clock, one business hour already used: due 13:00.
    assert new.due_at == sh(2026, 11, 23, 13, 0)


def test_reopen_starts_a_new_resolution_clock(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket = _new(t, sh(2026, 11, 23, 9, 0))
    with frozen(sh(2026, 11, 23, 11, 0)):
        services.ticket_set_status(
            ticket=ticket, actor=t.agent, status="resolved", at=sh(2026, 11, 23, 11, 0)
        )
    with frozen(sh(2026, 11, 24, 9, 30)):
        services.ticket_add_customer_message(
            ticket=ticket, body="又坏了", at=sh(2026, 11, 24, 9, 30)
        )
    clocks = list(SlaClock.objects.filter(ticket=ticket, metric="resolution"))
    assert [c.status for c in clocks] == ["met", "running"]
    assert clocks[1].started_at == sh(2026, 11, 24, 9, 30)


def test_breach_is_recorded_once_and_acted_on(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket = _new(t, sh(2026, 11, 23, 9, 0), channel="chat")
    services.ticket_assign(ticket=ticket, actor=t.supervisor, assignee=t.agent)
    assert sla_sweep(now=sh(2026, 11, 23, 9, 0, 30)).breached == 0
    first = sla_sweep(now=sh(2026, 11, 23, 9, 5))
    again = sla_sweep(now=sh(2026, 11, 23, 9, 6))
    assert first.breached == 1 and again.breached == 0
    clock = SlaClock.objects.get(ticket=ticket, metric="first_response", status="breached")
    assert clock.breached_at == sh(2026, 11, 23, 9, 1)
    assert SlaEvent.objects.filter(clock=clock, type="breached").count() == 1
    assert SlaEvent.objects.filter(clock=clock, type="warned").count() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="sla_notify").count() == 2
    # The tickets app raises the priority in its own task, a moment later.
    assert run_tasks("raise_priority_on_breach") == 1
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.priority == "high"
    assert ticket.events.filter(type="priority").get().data["reason"] == (
        "SLA first_response breached"
    )


def test_only_the_tickets_first_breach_raises_its_priority(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 23, 9, 0), channel="chat")
    # First response (1 min) and acknowledgement (2 h) both found breached by one sweep.
    assert sla_sweep(now=sh(2026, 11, 23, 11, 5)).breached == 2
    assert run_tasks("raise_priority_on_breach") == 1
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"
    # A later breach only notifies.
    assert sla_sweep(now=sh(2026, 12, 2, 9, 0)).breached == 1  # resolution
    assert run_tasks("raise_priority_on_breach") == 0
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"
    assert SlaClock.objects.filter(ticket=ticket, status="breached").count() == 3


def test_warning_fires_at_the_configured_share(sla_tenant: Tenant) -> None:
    ticket = _new(sla_tenant, sh(2026, 11, 23, 9, 0))
    res = _clock(ticket, "resolution")
    # 50 % of 37.5 business hours = 18.75 h: Mon, Tue, then Wednesday 14:15.
    assert res.warn_at == sh(2026, 11, 25, 14, 15)
    result = sla_sweep(now=sh(2026, 11, 25, 14, 30))
    res.refresh_from_db()
    assert result.warned >= 1 and res.warned_at == sh(2026, 11, 25, 14, 15)
    assert res.next_check_at == res.due_at


def test_late_reply_keeps_breach_verdict(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket = _new(t, sh(2026, 11, 23, 9, 0), channel="chat")
    with frozen(sh(2026, 11, 23, 9, 10)):
        services.ticket_reply(ticket=ticket, actor=t.agent, body="您好", at=sh(2026, 11, 23, 9, 10))
    clock = SlaClock.objects.get(ticket=ticket, metric="first_response")
    assert clock.status == "breached" and clock.breached_at == sh(2026, 11, 23, 9, 1)
    assert clock.met_at == sh(2026, 11, 23, 9, 10)


def test_queue_sorts_by_time_left(sla_tenant: Tenant) -> None:
    from kefu.conftest import login

    chat = _new(sla_tenant, sh(2026, 11, 23, 9, 0), channel="chat")  # due 09:01
    email = _new(sla_tenant, sh(2026, 11, 23, 8, 0), channel="email")  # ack due 11:00
    urgent = _new(sla_tenant, sh(2026, 11, 23, 9, 30), priority="urgent")  # due 11:30 (7×24)
    http = login(sla_tenant.agent)
    page = http.get("/tickets/?sort=due&status=")
    order = [t.pk for t in page.context["tickets"]]
    # The fixture's own ticket came before the policy: no clock, so last.
    assert order == [chat.pk, email.pk, urgent.pk, sla_tenant.ticket.pk]
    assert 'data-due="' in page.content.decode()
