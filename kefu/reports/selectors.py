"""KPI computation by aggregate queries (SQLite and PostgreSQL alike) over one client and
one period. The formulas themselves are in :mod:`kefu.reports.kpi`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from kefu.calendars.services import calendar_engine
from kefu.contracts.models import Client, Contract
from kefu.phone.models import Call
from kefu.reports import kpi
from kefu.reports.periods import Period
from kefu.sla.models import ClockStatus, Metric, SlaClock
from kefu.surveys.models import Survey
from kefu.tickets.models import Direction, EventType, Kind, Message, Ticket, TicketEvent

REOPEN_WINDOW = timedelta(days=7)


def _count_subquery(qs: Any) -> Subquery:
    return Subquery(
        qs.order_by().values("ticket_id").annotate(n=Count("id")).values("n")[:1],
        output_field=IntegerField(),
    )


def ticket_kpis(client: Client, period: Period) -> dict[str, Any]:
    created = Ticket.objects.filter(
        client=client, created_at__gte=period.start, created_at__lt=period.end
    )
    totals = created.aggregate(
        n=Count("id"),
        complaints=Count("id", filter=Q(kind=Kind.COMPLAINT)),
        resolved_in_time=Count("id", filter=Q(first_resolved_at__lt=period.end)),
    )
    by_channel = dict(
        created.order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    by_kind = dict(
        created.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    resolved = Ticket.objects.filter(
        client=client, first_resolved_at__gte=period.start, first_resolved_at__lt=period.end
    )
    contacts = Coalesce(
        _count_subquery(
            Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.OUTBOUND)
        ),
        Value(0),
    ) + Coalesce(
        _count_subquery(Call.objects.filter(ticket=OuterRef("pk"), answered_at__isnull=False)),
        Value(0),
    )
    escalated = Exists(TicketEvent.objects.filter(ticket=OuterRef("pk"), type=EventType.ESCALATED))
    reopened = Exists(
        TicketEvent.objects.filter(
            ticket=OuterRef("pk"),
            type=EventType.REOPENED,
            at__gte=OuterRef("first_resolved_at"),
            at__lte=OuterRef("first_resolved_at") + REOPEN_WINDOW,
        )
    )
    fcr = resolved.annotate(contacts=contacts, was_escalated=escalated, was_reopened=reopened)
    fcr_counts = fcr.aggregate(
        resolved=Count("id"),
        first=Count("id", filter=Q(contacts=1, was_escalated=False, was_reopened=False)),
    )
    first_out = Subquery(
        Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.OUTBOUND)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    chat_pairs = (
        resolved.filter(channel="chat")
        .annotate(first_out=first_out)
        .filter(first_out__isnull=False)
        .values_list("first_resolved_at", "first_out")
    )
    chat_seconds = [max((r - o).total_seconds(), 0.0) for r, o in chat_pairs]
    return {
        "volume": {
            "tickets": totals["n"],
            "by_channel": by_channel,
            "by_kind": by_kind,
            "resolved_in_period": fcr_counts["resolved"],
        },
        "kpis": {
            "resolution_rate": kpi.ratio(totals["resolved_in_time"], totals["n"]),
            "complaint_rate": kpi.ratio(totals["complaints"], totals["n"]),
            "fcr": kpi.ratio(fcr_counts["first"], fcr_counts["resolved"]),
            "aht_chat": kpi.mean(sum(chat_seconds), len(chat_seconds)),
        },
    }


def first_response_kpi(client: Client, period: Period) -> dict[str, Any]:
    """Business time from creation to the first outbound message, on the calendar of the
    ticket's first-response target (its SLA clock); tickets without one are not counted."""
    first_out = Subquery(
        Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.OUTBOUND)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    clocks = {
        c.ticket_id: c
        for c in SlaClock.objects.filter(
            client=client,
            metric=Metric.FIRST_RESPONSE,
            ticket__created_at__gte=period.start,
            ticket__created_at__lt=period.end,
        )
        .exclude(status=ClockStatus.CANCELLED)
        .select_related("target__calendar")
    }
    rows = (
        Ticket.objects.filter(
            client=client,
            created_at__gte=period.start,
            created_at__lt=period.end,
            pk__in=list(clocks),
        )
        .annotate(first_out=first_out)
        .filter(first_out__isnull=False)
        .values_list("pk", "created_at", "first_out")
    )
    seconds: list[float] = []
    within = 0
    for pk, created, out in rows:
        clock = clocks[pk]
        elapsed = calendar_engine(clock.target.calendar).elapsed(created, max(out, created))
        seconds.append(elapsed)
        within += elapsed <= clock.target.minutes * 60
    mean = kpi.mean(sum(seconds), len(seconds))
    return {
        **mean,
        "median": kpi.median(seconds),
        "within_target": kpi.ratio(within, len(seconds)),
    }


def call_kpis(client: Client, period: Period, service_level_s: int) -> dict[str, Any]:
    calls = Call.objects.filter(
        client=client, offered_at__gte=period.start, offered_at__lt=period.end
    )
    answered = Q(answered_at__isnull=False)
    abandoned = Q(answered_at__isnull=True)
    c = calls.aggregate(
        offered=Count("id"),
        answered=Count("id", filter=answered),
        abandoned=Count("id", filter=abandoned),
        short_abandoned=Count("id", filter=abandoned & Q(wait_s__lte=kpi.SHORT_ABANDON_S)),
        within=Count("id", filter=answered & Q(wait_s__lte=service_level_s)),
        wait=Coalesce(Sum("wait_s", filter=answered), 0),
        handle=Coalesce(Sum("talk_s", filter=answered), 0)
        + Coalesce(Sum("hold_s", filter=answered), 0)
        + Coalesce(Sum("acw_s", filter=answered), 0),
    )
    return {
        "volume": {
            "calls_offered": c["offered"],
            "calls_answered": c["answered"],
            "calls_abandoned": c["abandoned"],
        },
        "kpis": {
            "aht_call": kpi.mean(c["handle"], c["answered"]),
            "asa": kpi.mean(c["wait"], c["answered"]),
            "service_level": kpi.service_level(c["within"], c["offered"], c["short_abandoned"]),
            "abandon_rate": kpi.ratio(c["abandoned"], c["offered"]),
        },
    }


def survey_kpis(client: Client, period: Period) -> dict[str, Any]:
    s = Survey.objects.filter(
        client=client, sent_at__gte=period.start, sent_at__lt=period.end
    ).aggregate(
        sent=Count("id"),
        answered=Count("id", filter=Q(score__isnull=False)),
        satisfied=Count("id", filter=Q(score__gte=4)),
    )
    return {
        "volume": {"surveys_sent": s["sent"], "surveys_answered": s["answered"]},
        "kpis": {
            "csat": kpi.ratio(s["satisfied"], s["answered"]),
            "survey_response_rate": kpi.ratio(s["answered"], s["sent"]),
        },
    }


def sla_kpis(client: Client, period: Period) -> dict[str, Any]:
    rows = (
        SlaClock.objects.filter(
            client=client, ticket__created_at__gte=period.start, ticket__created_at__lt=period.end
        )
        .values("metric")
        .annotate(
            met=Count("id", filter=Q(status=ClockStatus.MET)),
            breached=Count("id", filter=Q(status=ClockStatus.BREACHED)),
        )
    )
    by_metric = {r["metric"]: r for r in rows}
    return {
        f"sla.{metric}": kpi.ratio(
            by_metric.get(metric, {}).get("met", 0),
            by_metric.get(metric, {}).get("met", 0) + by_metric.get(metric, {}).get("breached", 0),
        )
        for metric in Metric.values
    }


def contract_for(client: Client, period: Period) -> Contract | None:
    """The contract in force during the period (the latest one that started before it
    ended and had not ended before it began)."""
    return (
        Contract.objects.filter(
            client=client,
            start_date__lt=period.end.date(),
            end_date__gte=period.start.date(),
        )
        .order_by("-start_date")
        .first()
    )


def client_kpis(
    client: Client, period: Period, *, service_level_s: int = kpi.DEFAULT_SERVICE_LEVEL_S
) -> dict[str, Any]:
    """Every KPI of DESIGN.md for one client and period, with the volumes behind them."""
    tickets = ticket_kpis(client, period)
    calls = call_kpis(client, period, service_level_s)
    surveys = survey_kpis(client, period)
    return {
        "client": client.code,
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "time_zone": client.time_zone,
        },
        "service_level_threshold_s": service_level_s,
        "volume": {**tickets["volume"], **calls["volume"], **surveys["volume"]},
        "kpis": {
            **tickets["kpis"],
            **calls["kpis"],
            **surveys["kpis"],
            "first_response": first_response_kpi(client, period),
            **sla_kpis(client, period),
        },
    }
