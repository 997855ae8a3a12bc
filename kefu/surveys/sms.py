"""The SMS sender of surveys: the link by SMS (kefu.sms, the client's ``survey_link``
template with ``{number}`` and ``{link}``) to the ticket's customer's first phone. kefu.sms
sends it on its own, with its retries; the survey is sent once the SMS is."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from kefu.sms.models import Purpose, SmsMessage, SmsStatus
from kefu.sms.services import SmsRateLimited, sms_send
from kefu.surveys.links import survey_url
from kefu.surveys.models import Survey
from kefu.surveys.senders import Handed, SendFailed


def survey_sms_send(survey: Survey) -> Handed:
    ticket = survey.ticket
    customer = ticket.customer if ticket is not None else None
    phones = list(customer.phones) if customer is not None else []
    if ticket is None or not phones:
        raise SendFailed("客户没有手机号码 / the customer has no phone number", retryable=False)
    try:
        sms = sms_send(
            client=ticket.client,
            to=str(phones[0]),
            purpose=Purpose.SURVEY_LINK,
            params={"number": ticket.number, "link": survey_url(survey.pk)},
            customer_id=ticket.customer_id,
            ticket_id=ticket.pk,
        )
    except SmsRateLimited as exc:
        raise SendFailed(" ".join(exc.messages), retryable=True) from exc
    except ValidationError as exc:
        raise SendFailed(" ".join(exc.messages), retryable=False) from exc
    return Handed(str(sms.pk))


def survey_sms_check(survey: Survey) -> datetime | None:
    row = (
        SmsMessage.objects.filter(pk=int(survey.transport_ref or 0))
        .values_list("status", "sent_at", "error")
        .first()
    )
    if row is None:
        raise SendFailed("短信记录缺失 / the SMS record is gone", retryable=False)
    status, sent_at, error = row
    if status == SmsStatus.SENT and sent_at is not None:
        return sent_at
    if status == SmsStatus.FAILED:
        raise SendFailed(f"短信发送失败 / SMS failed: {error}"[:500], retryable=False)
    return None
