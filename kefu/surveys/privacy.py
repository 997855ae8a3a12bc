"""The surveys app's part of a data subject's data (:mod:`kefu.privacy.parts`): the surveys
sent about the customer's tickets and the callbacks made to them. Anonymising clears the
comments and call notes; scores and outcomes stay (CSAT of past months must not change)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.privacy.parts import Export, Part, Subject, Tally
from kefu.surveys.models import CallbackTask, Survey


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _of(subject: Subject) -> QuerySet[Survey]:
    return Survey.objects.filter(ticket_id__in=subject.ticket_ids)


def export(subject: Subject, with_files: bool) -> Export:
    surveys = _of(subject).select_related("ticket").order_by("sent_at", "id")
    return Export(
        data={
            "surveys": [
                {
                    "id": s.pk,
                    "ticket": s.ticket.number if s.ticket else None,
                    "channel": s.channel,
                    "sent_at": _iso(s.sent_at),
                    "answered_at": _iso(s.answered_at),
                    "score": s.score,
                    "comment": s.comment,
                }
                for s in surveys
            ],
            "callbacks": [
                {
                    "id": c.pk,
                    "ticket": c.ticket.number,
                    "kind": c.kind,
                    "due_at": _iso(c.due_at),
                    "done_at": _iso(c.done_at),
                    "outcome": c.outcome,
                    "score": c.score,
                    "comment": c.comment,
                }
                for c in CallbackTask.objects.filter(ticket_id__in=subject.ticket_ids)
                .select_related("ticket")
                .order_by("created_at", "id")
            ],
        }
    )


def _clear_comments(surveys: QuerySet[Survey], tally: Tally, write: bool) -> None:
    ids = list(surveys.exclude(comment="").values_list("pk", flat=True))
    for pk in ids:
        tally.add("survey", pk)
    if write:
        Survey.objects.filter(pk__in=ids).update(comment="")


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    _clear_comments(_of(subject), tally, write)
    notes = CallbackTask.objects.filter(ticket_id__in=subject.ticket_ids).exclude(comment="")
    ids = list(notes.values_list("pk", flat=True))
    for pk in ids:
        tally.add("callback", pk)
    if write:
        CallbackTask.objects.filter(pk__in=ids).update(comment="")


def count(subject: Subject) -> dict[str, int]:
    return {str(_("满意度回访")): _of(subject).count()}


def _without_ticket(client_id: int) -> QuerySet[Survey]:
    return Survey.objects.filter(client_id=client_id, ticket__isnull=True).exclude(comment="")


def orphans(client_id: int, after: int, limit: int) -> list[int]:
    rows = _without_ticket(client_id).filter(pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def anonymise_orphans(client_id: int, ids: Sequence[int], tally: Tally, write: bool) -> None:
    _clear_comments(Survey.objects.filter(pk__in=ids), tally, write)


PART = Part(
    name="surveys",
    order=30,
    export=export,
    anonymise=anonymise,
    count=count,
    orphans=orphans,
    anonymise_orphans=anonymise_orphans,
    count_orphans=lambda client_id: _without_ticket(client_id).count(),
    kinds={"survey": "回访评价", "callback": "回访记录"},
)
