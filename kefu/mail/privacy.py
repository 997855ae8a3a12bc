"""The email channel's part of a data subject's data (:mod:`kefu.privacy.parts`): the
mails the customer sent, as received (exported under ``mail/``), and the addresses kefu's
replies went to.

The raw mail as received carries everything (addresses, names, signatures): anonymising
deletes it and the sender and subject beside it; the row stays as the record that a mail
arrived and how it was handled. The ticket's messages hold the mail's text and are
anonymised by the tickets app's part."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from kefu.mail.models import InboundMail, OutboundMail
from kefu.privacy.parts import Export, Part, Subject, Tally


def _inbound(subject: Subject) -> QuerySet[InboundMail]:
    return InboundMail.objects.filter(ticket_id__in=subject.ticket_ids).exclude(raw=b"")


def export(subject: Subject, with_files: bool) -> Export:
    files: dict[str, bytes] = {}
    if with_files:
        for pk, number, raw in _inbound(subject).values_list("pk", "ticket__number", "raw"):
            files[f"mail/{number}-{pk}.eml"] = bytes(raw)
    return Export(files=files)


def _clear_inbound(ids: Sequence[int], tally: Tally, write: bool) -> None:
    for pk in ids:
        tally.add("inbound_mail", pk)
    if write:
        InboundMail.objects.filter(pk__in=ids).update(raw=b"", from_address="", subject="")


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    _clear_inbound(list(_inbound(subject).values_list("pk", flat=True)), tally, write)
    outbound = list(
        OutboundMail.objects.filter(ticket_id__in=subject.ticket_ids)
        .exclude(to_address="")
        .values_list("pk", flat=True)
    )
    for pk in outbound:
        tally.add("outbound_mail", pk)
    if write:
        OutboundMail.objects.filter(pk__in=outbound).update(to_address="", subject="")


def _without_ticket(client_id: int) -> QuerySet[InboundMail]:
    """Mail kept without a ticket (quarantined, ignored)."""
    return InboundMail.objects.filter(client_id=client_id, ticket__isnull=True).exclude(raw=b"")


def orphans(client_id: int, after: int, limit: int) -> list[int]:
    rows = _without_ticket(client_id).filter(pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def anonymise_orphans(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    _clear_inbound(ids, tally, write)


PART = Part(
    name="mail",
    order=40,
    export=export,
    anonymise=anonymise,
    orphans=orphans,
    anonymise_orphans=anonymise_orphans,
    count_orphans=lambda client_id: _without_ticket(client_id).count(),
    kinds={
        "inbound_mail": "收到的邮件（原文已删除）",
        "outbound_mail": "发出的邮件（收件地址已删除）",
    },
)
