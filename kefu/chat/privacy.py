"""The chat's part of a data subject's data (:mod:`kefu.privacy.parts`): the customer's
chats — when each started and ended, and the consent they gave to the privacy notice (its
version and instant; PIPL asks that it can be shown). The messages are the tickets' and
are exported and anonymised with them; a chat row holds one more piece of personal data,
the address of the page the chat was opened from, which anonymising clears. The consent
record stays: it is the proof that the data was collected lawfully."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.chat.models import Conversation
from kefu.privacy.parts import Export, Part, Subject, Tally


def _of(subject: Subject) -> QuerySet[Conversation]:
    linked = Q(ticket_id__in=subject.ticket_ids)
    if subject.customer is not None:
        linked |= Q(customer_id=subject.customer.pk)
    return Conversation.objects.filter(linked)


def _when(value: object) -> str | None:
    return timezone.localtime(value).isoformat() if value else None  # type: ignore[arg-type]


def export(subject: Subject, with_files: bool) -> Export:
    chats = _of(subject).select_related("ticket", "widget").order_by("started_at", "pk")
    return Export(
        data={
            "chats": [
                {
                    "id": c.pk,
                    "ticket": c.ticket.number if c.ticket else None,
                    "website": c.widget.name,
                    "page": c.page_url,
                    "started_at": _when(c.started_at),
                    "ended_at": _when(c.ended_at),
                    "status": c.status,
                    "privacy_notice_version": c.consent_version,
                    "privacy_notice_accepted_at": _when(c.consent_at),
                }
                for c in chats
            ]
        }
    )


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    rows = _of(subject).exclude(page_url="")
    for pk in rows.values_list("pk", flat=True):
        tally.add("chat", pk)
    if write:
        rows.update(page_url="")


def count(subject: Subject) -> dict[str, int]:
    return {str(_("在线会话")): _of(subject).count()}


PART = Part(
    name="chat",
    order=30,
    export=export,
    anonymise=anonymise,
    count=count,
    kinds={"chat": str(_("在线会话"))},
)
