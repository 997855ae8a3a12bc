"""SMS's part of a data subject's data (:mod:`kefu.privacy.parts`): the SMS kefu sent to
the customer (sign-in codes, reply notices, survey links), found by the customer, their
tickets, or one of their phone numbers.

Anonymising keeps each row (that an SMS went, when, and its result) and removes the number
and the parameters."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.privacy.fields import phone_index
from kefu.privacy.parts import Export, Part, Subject, Tally
from kefu.sms.models import SmsMessage


def _of(subject: Subject) -> QuerySet[SmsMessage]:
    match = Q(ticket_id__in=subject.ticket_ids)
    if subject.customer is not None:
        match |= Q(customer_id=subject.customer.pk)
        keys = {phone_index(i) for i in subject.identifiers if i and i[-1].isdigit()}
        keys.discard("")
        if keys:
            match |= Q(client_id=subject.customer.client_id, to_key__in=keys)
    return SmsMessage.objects.filter(match)


def export(subject: Subject, with_files: bool) -> Export:
    rows = _of(subject).exclude(to="").order_by("created_at", "id")
    return Export(
        data={
            "sms": [
                {
                    "to": str(m.to),
                    "purpose": m.purpose,
                    "status": m.status,
                    "created_at": timezone.localtime(m.created_at).isoformat(),
                    "sent_at": timezone.localtime(m.sent_at).isoformat() if m.sent_at else None,
                }
                for m in rows
            ]
        }
    )


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    ids = list(_of(subject).exclude(to="").values_list("pk", flat=True))
    for pk in ids:
        tally.add("sms", pk)
    if write:
        SmsMessage.objects.filter(pk__in=ids).update(to="", params={}, to_masked="", to_key="")


def count(subject: Subject) -> dict[str, int]:
    return {str(_("短信")): _of(subject).exclude(to="").count()}


PART = Part(
    name="sms",
    order=45,
    export=export,
    anonymise=anonymise,
    count=count,
    kinds={"sms": "发出的短信（号码与参数已删除）"},
)
