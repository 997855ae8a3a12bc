"""The phone channel's part of a data subject's data (:mod:`kefu.privacy.parts`): the calls
linked to the customer's tickets.

A call row holds no personal data of the caller today (no caller number is stored: only
times, durations, queue and agent), so anonymising has nothing to remove and the rows stay
whole for the KPIs. When the phone app stores a caller number, an ``anonymise`` function
here clears it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.phone.models import Call
from kefu.privacy.parts import Export, Part, Subject


def _of(subject: Subject) -> QuerySet[Call]:
    return Call.objects.filter(ticket_id__in=subject.ticket_ids)


def export(subject: Subject, with_files: bool) -> Export:
    calls = _of(subject).select_related("ticket").order_by("offered_at", "id")
    local = timezone.localtime
    return Export(
        data={
            "calls": [
                {
                    "id": c.pk,
                    "ticket": c.ticket.number if c.ticket else None,
                    "offered_at": local(c.offered_at).isoformat(),
                    "answered_at": local(c.answered_at).isoformat() if c.answered_at else None,
                    "ended_at": local(c.ended_at).isoformat(),
                    "wait_s": c.wait_s,
                    "talk_s": c.talk_s,
                    "hold_s": c.hold_s,
                    "queue": c.queue,
                }
                for c in calls
            ]
        }
    )


def count(subject: Subject) -> dict[str, int]:
    return {str(_("关联通话")): _of(subject).count()}


PART = Part(name="phone", order=20, export=export, count=count)
