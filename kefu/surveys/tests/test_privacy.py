"""A customer's surveys and callback notes are in their data export and cleared when they
are anonymised; scores and outcomes stay (past CSAT does not change)."""

from __future__ import annotations

from kefu.conftest import Tenant
from kefu.privacy.parts import Subject, Tally
from kefu.surveys.models import CallbackTask, Survey, SurveyRule, SurveyStatus
from kefu.surveys.privacy import anonymise, export
from kefu.surveys.services import callback_record, survey_answer
from kefu.surveys.tests.conftest import resolved_ticket


def test_callback_notes_are_exported_and_anonymised(tenant_a: Tenant, rule: SurveyRule) -> None:
    ticket = resolved_ticket(tenant_a)
    survey = Survey.objects.create(
        client=tenant_a.client, ticket=ticket, channel="email", origin="resolution",
        status=SurveyStatus.SENT, sent_at=ticket.first_resolved_at,
    )  # fmt: skip
    survey_answer(survey_id=survey.pk, score=1, comment="王小明 13800138000 很不满意")
    task = CallbackTask.objects.get()
    callback_record(
        task=task, actor=tenant_a.supervisor, outcome="reached", comment="王先生说已解决"
    )
    subject = Subject(customer=tenant_a.customer, ticket_ids=[ticket.pk])
    data = export(subject, with_files=False).data
    assert data["callbacks"][0]["comment"] == "王先生说已解决"
    assert data["surveys"][0]["score"] == 1
    tally = Tally()
    anonymise(subject, tally, write=True)
    assert tally.counts() == {"callback": 1, "survey": 1}
    task.refresh_from_db()
    survey.refresh_from_db()
    assert (task.comment, task.outcome) == ("", "reached")
    assert (survey.comment, survey.score) == ("", 1)
