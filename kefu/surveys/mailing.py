"""The email sender of surveys: a mail with the answer link, Chinese then English, in the
client's name, through the mailbox that answers the ticket (kefu.mail)."""

from __future__ import annotations

from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone

from kefu.mail.outbound import mail_failure_reason, mail_notice_send, mail_reply_route
from kefu.surveys.links import survey_url
from kefu.surveys.models import Survey
from kefu.surveys.selectors import rule_for
from kefu.surveys.senders import SendFailed


def survey_mail_send(survey: Survey) -> datetime:
    ticket = survey.ticket
    if ticket is None:
        raise SendFailed("工单已删除 / the ticket is gone", retryable=False)
    route = mail_reply_route(ticket)
    if route.mailbox is None or not route.address:
        raise SendFailed(
            "没有可发信的邮箱或客户邮箱地址 / no mailbox that can send, or no address",
            retryable=False,
        )
    rule = rule_for(survey.client_id, timezone.now())
    context = {
        "client": ticket.client.name,
        "number": ticket.number,
        "subject": ticket.subject,
        "url": survey_url(survey.pk),
        "title_zh": rule.title_zh if rule else "服务满意度调查",
        "title_en": rule.title_en if rule else "How satisfied were you with our service?",
        "question_zh": rule.question_zh if rule else "",
        "question_en": rule.question_en if rule else "",
        "days": rule.link_days if rule else 14,
    }
    subject = f"{context['title_zh']} / {context['title_en']} [{ticket.number}]"
    body = render_to_string("surveys/mail.txt", context)
    try:
        accepted, _message_id = mail_notice_send(
            mailbox=route.mailbox, to_address=route.address, subject=subject, body=body
        )
    except Exception as exc:
        reason, retryable = mail_failure_reason(exc)
        raise SendFailed(reason, retryable=retryable) from exc
    return accepted
