"""The completion time promised on an escalation is watched: warned before, overdue after,
stopped by the department's answer, and never part of the SLA compliance figures."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from kefu.calendars.services import calendar_load, statutory_sync
from kefu.conftest import Tenant, api_client, login
from kefu.core import jobs
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.sla.models import Metric, SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.sla.tests.conftest import EXAMPLES, POLICY, frozen, sh
from kefu.tickets import services, tasks
from kefu.tickets.models import Escalation, EventType, Ticket
from kefu.tickets.promises import escalation_promise_sweep

ESCALATED_AT = sh(2026, 11, 23, 10, 0)
PROMISED = sh(2026, 11, 23, 20, 0)  # 10 hours later: warned at 80 %, 18:00


@pytest.fixture
def sla_tenant(tenant_a: Tenant) -> Tenant:
    """Client A under the SLA policy of kefu/sla/tests (a complaint must be escalated within
    960 business minutes)."""
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
    statutory_sync(years=[2025, 2026])
    sla_policy_load(text=POLICY)
    return tenant_a


def _escalated(t: Tenant, kind: str = "fault") -> tuple[Ticket, Escalation]:
    with frozen(sh(2026, 11, 23, 9, 0)):
        ticket = services.ticket_create(
            client=t.client,
            subject="冰箱不制冷",
            body="买了三天就不制冷了",
            channel="email",
            kind=kind,
            actor=t.agent,
            created_at=sh(2026, 11, 23, 9, 0),
        )
        services.ticket_assign(ticket=ticket, actor=t.supervisor, assignee=t.agent)
    with frozen(ESCALATED_AT):
        escalation = services.ticket_escalate(
            ticket=ticket,
            actor=t.agent,
            department=t.department,
            reason="需要售后部确认是否换新",
            expected_by=PROMISED,
        )
    return ticket, escalation


def _promise_tasks() -> list[list[object]]:
    rows = DBTaskResult.objects.filter(task_path__endswith="notify_escalation_promise")
    return [r.args_kwargs["args"] for r in rows]


def _page(t: Tenant, url: str, at: datetime, user: object = None) -> str:
    http = login(user or t.agent)  # type: ignore[arg-type]
    with frozen(at):
        response = http.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_department_and_agent_are_warned_before_the_promised_time(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket, escalation = _escalated(t)
    assert escalation.warn_at == sh(2026, 11, 23, 18, 0)
    assert escalation_promise_sweep(now=sh(2026, 11, 23, 17, 59)).warned == 0
    first = escalation_promise_sweep(now=sh(2026, 11, 23, 18, 5))
    again = escalation_promise_sweep(now=sh(2026, 11, 23, 18, 10))
    assert (first.warned, first.overdue, again.warned) == (1, 0, 0)
    escalation.refresh_from_db()
    assert escalation.warned_at == sh(2026, 11, 23, 18, 0)
    warned = ticket.events.filter(type=EventType.ESCALATION_WARNED)
    assert [e.at for e in warned] == [sh(2026, 11, 23, 18, 0)]
    assert _promise_tasks() == [[escalation.pk, "warned"]]
    # The department's people and the ticket's agent get the mail, with the promised time.
    assert tasks.notify_escalation_promise.call(escalation.pk, "warned") == 2
    sent = mail.outbox[-1]
    assert sorted(sent.to) == [t.agent.email, t.department_user.email]
    assert ticket.number in sent.subject and "2026-11-23 20:00" in sent.body


def test_overdue_is_recorded_once_and_shown_on_every_page(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket, escalation = _escalated(t)
    late = sh(2026, 11, 23, 22, 0)
    # Before the sweeper runs, the pages already show it (the instant has passed).
    queue = _page(t, "/tickets/?status=", late)
    assert "升级逾期" in queue
    result = escalation_promise_sweep(now=late)
    # Swept only after the promised time: recorded as overdue, no warning after the fact.
    assert (result.warned, result.overdue) == (0, 1)
    assert escalation_promise_sweep(now=sh(2026, 11, 23, 23, 0)).overdue == 0
    escalation.refresh_from_db()
    assert escalation.overdue_at == PROMISED and escalation.next_check_at is None
    overdue = ticket.events.get(type=EventType.ESCALATION_OVERDUE)
    assert overdue.at == PROMISED and t.department.name in overdue.describe()
    assert _promise_tasks() == [[escalation.pk, "overdue"]]

    page = _page(t, f"/tickets/{ticket.pk}/", late)
    assert "promise-overdue" in page and "已超时 2小时" in page
    dept_list = _page(t, "/tickets/escalations/", late, t.department_user)
    assert ticket.number in dept_list and "promise-overdue" in dept_list
    assert "已超时 2小时" in dept_list
    assert "升级逾期" in _page(t, "/tickets/?status=", late)
    detail = api_client(t.agent).get(f"/api/v1/tickets/{ticket.pk}").json()
    [api_escalation] = detail["escalations"]
    assert datetime.fromisoformat(api_escalation["overdue_at"]) == PROMISED
    assert api_escalation["warned_at"] is None


def test_not_yet_due_shows_time_left_not_overdue(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket, _escalation = _escalated(t)
    at = sh(2026, 11, 23, 17, 0)
    assert "剩 3小时" in _page(t, "/tickets/escalations/", at, t.department_user)
    page = _page(t, f"/tickets/{ticket.pk}/", at)
    assert "promise-overdue" not in page and "剩 3小时" in page
    assert "升级逾期" not in _page(t, "/tickets/?status=", at)


def test_answering_stops_the_watch(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket, escalation = _escalated(t)
    with frozen(sh(2026, 11, 23, 15, 0)):
        services.escalation_answer(
            escalation=escalation, actor=t.department_user, answer="同意换新，明天送达"
        )
    escalation.refresh_from_db()
    assert escalation.next_check_at is None
    result = escalation_promise_sweep(now=sh(2026, 11, 24, 9, 0))
    assert (result.warned, result.overdue) == (0, 0)
    assert not ticket.events.filter(
        type__in=[EventType.ESCALATION_WARNED, EventType.ESCALATION_OVERDUE]
    ).exists()
    assert _promise_tasks() == []
    later = sh(2026, 11, 24, 9, 0)
    assert "promise-overdue" not in _page(t, f"/tickets/{ticket.pk}/", later)
    assert "升级逾期" not in _page(t, "/tickets/?status=", later)
    assert ticket.number not in _page(t, "/tickets/escalations/", later, t.department_user)


def test_a_warning_queued_before_the_answer_sends_nothing_after_it(sla_tenant: Tenant) -> None:
    t = sla_tenant
    _ticket, escalation = _escalated(t)
    escalation_promise_sweep(now=sh(2026, 11, 23, 18, 5))
    with frozen(sh(2026, 11, 23, 18, 6)):
        services.escalation_answer(escalation=escalation, actor=t.department_user, answer="已处理")
    assert tasks.notify_escalation_promise.call(escalation.pk, "warned") == 0


def test_promise_is_not_in_the_sla_compliance_figures(sla_tenant: Tenant) -> None:
    t = sla_tenant
    # A complaint: the contract's escalation target (960 business minutes) applies, and
    # escalating within it meets that target.
    ticket, _escalation = _escalated(t, kind="complaint")
    period = month("2026-11", "Asia/Shanghai")
    before = client_kpis(t.client, period)["kpis"]
    assert before["sla.escalation"] == {"value": 1.0, "numerator": 1, "denominator": 1}
    clocks = SlaClock.objects.filter(ticket=ticket).count()
    assert escalation_promise_sweep(now=sh(2026, 11, 23, 22, 0)).overdue == 1
    after = client_kpis(t.client, period)["kpis"]
    # The department missing the promised time is not an SLA breach of the provider.
    assert {k: v for k, v in after.items() if k.startswith("sla.")} == {
        k: v for k, v in before.items() if k.startswith("sla.")
    }
    assert sorted(k for k in after if k.startswith("sla.")) == sorted(
        f"sla.{m}" for m in Metric.values
    )
    assert SlaClock.objects.filter(ticket=ticket).count() == clocks


def test_a_late_answer_keeps_the_overdue_record(sla_tenant: Tenant) -> None:
    t = sla_tenant
    ticket, escalation = _escalated(t)
    escalation_promise_sweep(now=sh(2026, 11, 23, 21, 0))
    with frozen(sh(2026, 11, 24, 9, 30)):
        services.escalation_answer(escalation=escalation, actor=t.department_user, answer="已换新")
    escalation.refresh_from_db()
    assert escalation.overdue_at == PROMISED and escalation.next_check_at is None
    page = _page(t, f"/tickets/{ticket.pk}/", sh(2026, 11, 24, 10, 0))
    assert "逾期答复" in page and "promise-overdue" not in page
    assert "升级已逾期" in page  # the history keeps the event


def test_the_scheduler_job_sweeps_the_promises(sla_tenant: Tenant) -> None:
    t = sla_tenant
    _ticket, escalation = _escalated(t)
    job = jobs.job_get("tickets.escalation_promises")
    assert job is not None
    job.func(sh(2026, 11, 23, 21, 0))
    escalation.refresh_from_db()
    assert escalation.overdue_at == PROMISED
