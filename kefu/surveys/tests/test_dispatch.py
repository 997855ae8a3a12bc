"""A resolved ticket gets exactly one survey, by the channel it came in, after the rule's
delay; a survey that could not be sent is not sent."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from kefu.conftest import Tenant, run_tasks
from kefu.mail.models import Mailbox
from kefu.reports.periods import Period
from kefu.reports.selectors import survey_kpis
from kefu.surveys.models import Survey, SurveyRule, SurveyStatus
from kefu.surveys.selectors import survey_link_for_ticket
from kefu.surveys.services import survey_create_for_ticket, survey_dispatch_due
from kefu.surveys.tests.conftest import resolved_ticket
from kefu.tickets import services as tickets
from kefu.tickets.models import Status


def _mails() -> list[str]:
    outbox = Path(settings.KEFU_MAIL_OUTBOX)
    out = []
    for path in sorted(outbox.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        if "满意度" in str(msg["Subject"]):
            assert isinstance(msg, EmailMessage)
            out.append(msg.get_content())
    return out


def test_email_ticket_gets_one_survey_after_the_delay(tenant_a: Tenant, rule: SurveyRule) -> None:
    ticket = resolved_ticket(tenant_a)
    resolved = ticket.first_resolved_at
    assert resolved is not None
    assert survey_dispatch_due(now=resolved + timedelta(minutes=59)) == 0
    assert survey_dispatch_due(now=resolved + timedelta(minutes=61)) == 1
    # A retried job, and another dispatcher racing it, add nothing.
    assert survey_dispatch_due(now=resolved + timedelta(minutes=62)) == 0
    assert survey_create_for_ticket(ticket=ticket, rule=rule) is None
    # The job sends what is due itself; the task queued with the survey finds it sent.
    run_tasks("survey_send_task")
    survey = Survey.objects.get(ticket=ticket)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.sent_at is not None
    assert survey.channel == "email"
    bodies = _mails()
    assert len(bodies) == 1
    assert "甲方A满意度调查" in bodies[0] and ticket.number in bodies[0]
    link = re.search(r"https?://\S+/s/\S+/", bodies[0])
    assert link is not None
    assert survey_link_for_ticket(ticket) == link.group(0).split("8000", 1)[-1]


def test_reopened_and_resolved_again_keeps_its_one_survey(
    tenant_a: Tenant, rule: SurveyRule
) -> None:
    ticket = resolved_ticket(tenant_a)
    later = timezone.now() + timedelta(minutes=61)
    survey_dispatch_due(now=later)
    run_tasks("survey_send_task")
    tickets.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.OPEN)
    tickets.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.RESOLVED)
    assert survey_dispatch_due(now=later + timedelta(hours=2)) == 0
    assert Survey.objects.filter(ticket=ticket).count() == 1
    assert len(_mails()) == 1


def test_a_ticket_reopened_before_its_survey_waits(tenant_a: Tenant, rule: SurveyRule) -> None:
    ticket = resolved_ticket(tenant_a)
    tickets.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.OPEN)
    later = timezone.now() + timedelta(minutes=61)
    assert survey_dispatch_due(now=later) == 0
    tickets.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.RESOLVED)
    assert survey_dispatch_due(now=later) == 1


def test_channels_outside_the_rule_and_old_tickets_get_none(
    tenant_a: Tenant, rule: SurveyRule
) -> None:
    rule.channels = ["portal"]
    rule.save()
    resolved_ticket(tenant_a, channel="email")
    old = resolved_ticket(tenant_a, channel="portal", at=timezone.now() - timedelta(days=30))
    assert old.first_resolved_at is not None
    assert survey_dispatch_due(now=timezone.now() + timedelta(minutes=61)) == 0
    fresh = resolved_ticket(tenant_a, channel="portal")
    assert survey_dispatch_due(now=timezone.now() + timedelta(minutes=61)) == 1
    # The portal shows the link: published is sent.
    run_tasks("survey_send_task")
    survey = Survey.objects.get(ticket=fresh)
    assert survey.channel == "portal" and survey.status == SurveyStatus.SENT
    assert survey_link_for_ticket(fresh) is not None


def test_a_survey_that_could_not_be_sent_is_not_counted(tenant_a: Tenant, rule: SurveyRule) -> None:
    Mailbox.objects.filter(client=tenant_a.client).update(active=False)
    ticket = resolved_ticket(tenant_a)
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    run_tasks("survey_send_task")
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.FAILED
    assert survey.sent_at is None and "邮箱" in survey.last_error
    assert survey_link_for_ticket(ticket) is None
    now = timezone.now()
    figures = survey_kpis(
        tenant_a.client, Period(now - timedelta(days=1), now + timedelta(days=1), "x")
    )
    assert figures["volume"]["surveys_sent"] == 0
    assert figures["kpis"]["survey_response_rate"]["value"] is None


def test_the_portal_ticket_page_links_its_survey(tenant_a: Tenant, rule: SurveyRule) -> None:
    ticket = resolved_ticket(tenant_a, channel="portal")
    assert 'id="survey-link"' not in render_to_string("portal/_rate_slot.html", {"ticket": ticket})
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    slot = render_to_string("portal/_rate_slot.html", {"ticket": ticket})
    assert f'href="{survey_link_for_ticket(ticket)}"' in slot
