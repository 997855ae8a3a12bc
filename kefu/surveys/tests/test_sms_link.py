"""A phone ticket's survey goes as an SMS link (kefu.sms, console backend): sent once the
SMS is, answerable by its link; without a template or a phone it is not sent."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from django.test import Client as HttpClient
from django.utils import timezone

from kefu.conftest import Tenant, run_tasks
from kefu.sms.models import Purpose, SmsMessage, SmsStatus, SmsTemplate
from kefu.surveys.models import Survey, SurveyRule, SurveyStatus
from kefu.surveys.services import survey_dispatch_due, survey_send_due
from kefu.surveys.tests.conftest import resolved_ticket


def _template(t: Tenant) -> None:
    SmsTemplate.objects.create(
        client=t.client,
        purpose=Purpose.SURVEY_LINK,
        sign_name="甲方A客服",
        text="您的工单{number}已处理完毕，请为本次服务打分：{link}",
    )


def test_a_phone_ticket_gets_its_survey_by_sms(
    tenant_a: Tenant, rule: SurveyRule, settings: object, tmp_path: Path
) -> None:
    outbox = tmp_path / "sms.txt"
    settings.KEFU_SMS_BACKEND = "console"  # type: ignore[attr-defined]
    settings.KEFU_SMS_OUTBOX = outbox  # type: ignore[attr-defined]
    _template(tenant_a)
    ticket = resolved_ticket(tenant_a, channel="phone")
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    survey = Survey.objects.get(ticket=ticket)
    # Handed to kefu.sms, not yet sent: in no figure.
    assert (survey.channel, survey.status, survey.sent_at) == ("sms", SurveyStatus.SENDING, None)
    run_tasks("send_sms")
    sms = SmsMessage.objects.get(ticket=ticket)
    assert sms.status == SmsStatus.SENT
    survey_send_due()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.sent_at == sms.sent_at
    text = outbox.read_text(encoding="utf-8")
    link = re.search(r"/s/[^\s]+/", text)
    assert link is not None and ticket.number in text
    assert HttpClient().post(link.group(0), {"score": "5"}).status_code == 200
    assert HttpClient().post(link.group(0), {"score": "1"}).status_code == 409
    survey.refresh_from_db()
    assert survey.score == 5


def test_no_template_no_survey_sent(tenant_a: Tenant, rule: SurveyRule) -> None:
    ticket = resolved_ticket(tenant_a, channel="phone")
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=61))
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.FAILED and survey.sent_at is None
    assert "模板" in survey.last_error
    assert not SmsMessage.objects.exists()
