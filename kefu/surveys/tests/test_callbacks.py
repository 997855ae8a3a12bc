"""A low score opens a callback task for a supervisor, due in the contract's service hours;
the staff page lists it, and the outcome is recorded once."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kefu.conftest import Tenant, login
from kefu.surveys.models import CallbackKind, CallbackTask, Survey, SurveyRule, SurveyStatus
from kefu.surveys.services import survey_answer
from kefu.surveys.tests.conftest import resolved_ticket, sh


def _survey(t: Tenant, sent_at_hours_ago: int = 1) -> Survey:
    ticket = resolved_ticket(t)
    sent = timezone.now() - timedelta(hours=sent_at_hours_ago)
    return Survey.objects.create(
        client=t.client,
        ticket=ticket,
        channel="email",
        origin="resolution",
        status=SurveyStatus.SENT,
        sent_at=sent,
        expires_at=sent + timedelta(days=400),
    )


def test_low_score_opens_a_callback_due_in_service_hours(
    tenant_a: Tenant, rule: SurveyRule
) -> None:
    survey = _survey(tenant_a, sent_at_hours_ago=24 * 300)
    # Friday 17:00: one service hour left that day, then Monday 09:00–12:00 and 13:30–17:30
    # make the 480 minutes of the rule (cn-standard: 09:00–12:00, 13:30–18:00).
    survey_answer(survey_id=survey.pk, score=2, comment="等了很久", at=sh(2026, 3, 6, 17, 0))
    task = CallbackTask.objects.get()
    assert task.kind == CallbackKind.LOW_SCORE and task.survey_id == survey.pk
    assert task.due_at == sh(2026, 3, 9, 17, 30)


def test_a_score_above_the_threshold_opens_none_until_the_rule_says_so(
    tenant_a: Tenant, rule: SurveyRule
) -> None:
    survey_answer(survey_id=_survey(tenant_a).pk, score=3)
    assert not CallbackTask.objects.exists()
    rule.low_score_max = 3
    rule.save()
    survey_answer(survey_id=_survey(tenant_a).pk, score=3)
    assert CallbackTask.objects.count() == 1


def test_supervisor_sees_and_records_the_callback(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _survey(tenant_a)
    survey_answer(survey_id=survey.pk, score=1, comment="没人管")
    task = CallbackTask.objects.get()
    assert (
        login(tenant_a.agent)
        .get("/surveys/callbacks/?state=open")
        .content.decode()
        .count(f'data-callback="{task.pk}"')
        == 0
    )
    web = login(tenant_a.supervisor)
    listing = web.get("/surveys/callbacks/?state=open").content.decode()
    assert f'data-callback="{task.pk}"' in listing and task.ticket.number in listing
    assert (
        f'data-callback="{task.pk}"'
        not in web.get("/surveys/callbacks/?state=done").content.decode()
    )
    saved = web.post(
        f"/surveys/callbacks/{task.pk}/",
        {"outcome": "reached", "comment": "已致歉并安排回访"},
    )
    assert saved.status_code == 302
    task.refresh_from_db()
    assert task.outcome == "reached" and task.done_by == tenant_a.supervisor
    # A low-score callback's outcome is no new survey: the customer's score counts once.
    assert Survey.objects.filter(ticket=task.ticket).count() == 1
    assert (
        f'data-callback="{task.pk}"' in web.get("/surveys/callbacks/?state=done").content.decode()
    )
    again = web.post(f"/surveys/callbacks/{task.pk}/", {"outcome": "refused"}, follow=True)
    assert "已经记录过" in again.content.decode()
    task.refresh_from_db()
    assert task.outcome == "reached"


def test_overdue_callbacks_are_listed_as_such(tenant_a: Tenant, rule: SurveyRule) -> None:
    survey = _survey(tenant_a, sent_at_hours_ago=24 * 30)
    survey_answer(survey_id=survey.pk, score=1, at=timezone.now() - timedelta(days=20))
    task = CallbackTask.objects.get()
    web = login(tenant_a.supervisor)
    assert (
        f'data-callback="{task.pk}"'
        in web.get("/surveys/callbacks/?state=overdue").content.decode()
    )
    assert (
        f'data-callback="{task.pk}"'
        not in web.get("/surveys/callbacks/?state=open").content.decode()
    )


def test_other_clients_callbacks_stay_hidden(
    tenant_a: Tenant, tenant_b: Tenant, rule: SurveyRule
) -> None:
    survey_answer(survey_id=_survey(tenant_a).pk, score=1)
    task = CallbackTask.objects.get()
    web = login(tenant_b.supervisor)
    assert web.get(f"/surveys/callbacks/{task.pk}/").status_code == 404
    assert (
        f'data-callback="{task.pk}"'
        not in web.get("/surveys/callbacks/?state=all").content.decode()
    )
