"""The weekly phone callback sample follows the contract's rule: per channel, the share of
the week's resolved tickets (at least the minimum), without excluded kinds or tickets the
customer already rated, the same tickets on a rerun, no ticket twice; the outcome is a
survey with channel phone."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from kefu.conftest import Tenant
from kefu.surveys.models import CallbackKind, CallbackTask, Survey, SurveyRule, SurveyStatus
from kefu.surveys.services import (
    callback_record,
    callback_sample_due,
    callback_sample_plan,
    callback_sample_week,
)
from kefu.surveys.tests.conftest import resolved_ticket, sh

WEEK = date(2026, 3, 2)  # a Monday


def _week_of_tickets(t: Tenant) -> dict[str, list[int]]:
    made: dict[str, list[int]] = {"email": [], "phone": [], "portal": []}
    for i in range(12):  # 12 email tickets over the week
        made["email"].append(resolved_ticket(t, at=sh(2026, 3, 2 + i % 7, 10, i)).pk)
    for i in range(4):
        made["phone"].append(resolved_ticket(t, channel="phone", at=sh(2026, 3, 3, 11, i)).pk)
    made["portal"].append(resolved_ticket(t, channel="portal", at=sh(2026, 3, 4, 9)).pk)
    # Outside the week: the Sunday before and the Monday after.
    resolved_ticket(t, at=sh(2026, 3, 1, 23, 59))
    resolved_ticket(t, at=sh(2026, 3, 9, 0, 0))
    return made


def test_the_sample_follows_the_rule(tenant_a: Tenant, rule: SurveyRule) -> None:
    made = _week_of_tickets(tenant_a)
    complaint = resolved_ticket(tenant_a, at=sh(2026, 3, 5, 10), kind="complaint")
    rated = made["email"][0]
    Survey.objects.create(
        client=tenant_a.client,
        ticket_id=rated,
        channel="email",
        sent_at=sh(2026, 3, 5),
        answered_at=sh(2026, 3, 5, 1),
        score=5,
    )
    plan = {s.channel: s for s in callback_sample_plan(rule=rule, week=WEEK)}
    # email: 13 resolved (12 + the complaint); 20 % is 2.6 → 3, the minimum 3 → 3 of the
    # 11 left after leaving out the complaint and the rated ticket.
    assert (plan["email"].resolved, plan["email"].eligible, plan["email"].size) == (13, 11, 3)
    assert rated not in plan["email"].picked and complaint.pk not in plan["email"].picked
    # phone: 20 % of 4 → 1, raised to the minimum 3; portal: 1 ticket, so 1.
    assert (plan["phone"].size, plan["portal"].size) == (3, 1)
    tasks = callback_sample_week(rule=rule, week=WEEK, now=sh(2026, 3, 9, 9))
    assert len(tasks) == 7
    picked = {t.ticket_id for t in tasks}
    assert picked == set(plan["email"].picked) | set(plan["phone"].picked) | set(
        plan["portal"].picked
    )
    assert all(t.kind == CallbackKind.SAMPLE and t.week == WEEK for t in tasks)
    # 2400 service minutes from Monday 09:00, 450 a day: Monday to Friday make 2250, the
    # other 150 end on Monday 16 March at 11:30.
    assert {t.due_at for t in tasks} == {sh(2026, 3, 16, 11, 30)}
    # A rerun of the week adds nothing; no ticket is ever sampled twice.
    assert callback_sample_week(rule=rule, week=WEEK, now=sh(2026, 3, 9, 10)) == []
    assert CallbackTask.objects.count() == 7


def test_the_sample_is_reproducible(tenant_a: Tenant, rule: SurveyRule) -> None:
    _week_of_tickets(tenant_a)
    first = [s.picked for s in callback_sample_plan(rule=rule, week=WEEK)]
    again = [s.picked for s in callback_sample_plan(rule=rule, week=WEEK)]
    assert first == again
    rule.sample_percent, rule.sample_count, rule.sample_minimum = None, 2, 0
    rule.sample_channels = ["email"]
    rule.save()
    plan = callback_sample_plan(rule=rule, week=WEEK)
    assert [(s.channel, s.size) for s in plan] == [("email", 2)]
    assert plan[0].picked == first[0][:2]  # the same order, fewer taken


def test_the_job_samples_last_week_once(tenant_a: Tenant, rule: SurveyRule) -> None:
    _week_of_tickets(tenant_a)
    assert callback_sample_due(now=sh(2026, 3, 10, 8)) == 7
    assert callback_sample_due(now=sh(2026, 3, 11, 8)) == 0


def test_the_outcome_is_a_phone_survey(tenant_a: Tenant, rule: SurveyRule) -> None:
    _week_of_tickets(tenant_a)
    reached, refused, missed = callback_sample_week(rule=rule, week=WEEK, now=sh(2026, 3, 9, 9))[:3]
    callback_record(task=reached, actor=tenant_a.agent, outcome="reached", score=5, comment="满意")
    callback_record(task=refused, actor=tenant_a.agent, outcome="refused")
    callback_record(task=missed, actor=tenant_a.agent, outcome="not_reached")
    phone = Survey.objects.filter(channel="phone", origin="callback")
    assert phone.count() == 2  # nobody was asked on the call not reached
    answered = phone.get(ticket=reached.ticket)
    assert (answered.score, answered.status, answered.comment) == (5, SurveyStatus.SENT, "满意")
    assert phone.get(ticket=refused.ticket).answered_at is None


def test_the_command_shows_the_same_sample(tenant_a: Tenant, rule: SurveyRule) -> None:
    _week_of_tickets(tenant_a)
    out = io.StringIO()
    call_command("callbacks", "sample", "--client", "ACME", "--week", "2026-03-04", stdout=out)
    shown = json.loads(out.getvalue())
    plan = callback_sample_plan(rule=rule, week=WEEK)
    assert shown["week"] == "2026-03-02"
    assert [c["tickets"] for c in shown["channels"]] == [s.picked for s in plan]
    assert shown["created"] == 0 and not CallbackTask.objects.exists()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("callbacks", "sample", "--client", "ACME", "--week", "March")
