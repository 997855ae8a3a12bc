"""KPI computation by aggregate queries (SQLite and PostgreSQL alike) over one client and
one period. The formulas themselves are in :mod:`kefu.reports.kpi`."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from kefu.accounts.models import User
from kefu.calendars.services import calendar_engine
from kefu.chat.models import Conversation, ConversationStatus
from kefu.contracts.models import Client, Contract
from kefu.phone.models import Call, CallDirection
from kefu.reports import kpi
from kefu.reports.periods import Period
from kefu.sla.models import ClockStatus, Metric, SlaClock, SlaTarget
from kefu.surveys.models import Survey
from kefu.tickets.models import Channel, Delivery, EventType, Kind, Priority, Ticket

REOPEN_WINDOW = timedelta(days=7)


def ticket_kpis(client: Client, period: Period) -> dict[str, Any]:
    created = _created_counts(client, period)
    resolved = _resolved_counts(client, period)
    return {
        "volume": {
            "tickets": created["n"],
            "by_channel": created["by_channel"],
            "by_kind": created["by_kind"],
            "resolved_in_period": resolved["n"],
        },
        "kpis": {
            "resolution_rate": kpi.ratio(created["resolved_in_time"], created["n"]),
            "complaint_rate": kpi.ratio(created["complaints"], created["n"]),
            "fcr": kpi.ratio(resolved["first_contact"], resolved["n"]),
            "aht_chat": kpi.mean(resolved["chat_seconds"], resolved["chat_n"]),
        },
    }


def _created_counts(client: Client, period: Period) -> dict[str, Any]:
    """Tickets created in the period, by channel and kind, in one pass over them."""
    cells = (
        Ticket.objects.filter(
            client=client, created_at__gte=period.start, created_at__lt=period.end
        )
        .order_by()
        .values_list("channel", "kind")
        .annotate(n=Count("id"), in_time=Count("id", filter=Q(first_resolved_at__lt=period.end)))
    )
    by_channel: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    resolved_in_time = 0
    for channel, kind, n, in_time in cells:
        by_channel[channel] += n
        by_kind[kind] += n
        resolved_in_time += in_time
    return {
        "n": sum(by_channel.values()),
        "complaints": by_kind.get(Kind.COMPLAINT, 0),
        "resolved_in_time": resolved_in_time,
        "by_channel": dict(by_channel),
        "by_kind": dict(by_kind),
    }


def _resolved_counts(client: Client, period: Period) -> dict[str, Any]:
    """Over the tickets first resolved in the period, in one query: how many (``n``); how
    many were resolved at first contact (``first_contact``: exactly one agent contact —
    outbound messages plus answered calls linked to the ticket —, never escalated, not
    reopened within REOPEN_WINDOW of the first resolution); and, for the chat tickets with
    an outbound message, how many (``chat_n``) and the sum of first resolution − first
    outbound message (``chat_seconds``, a reply after the resolution counting 0).

    Replies, answered calls and disqualifying events are outer joins grouped by ticket, so
    PostgreSQL hash-joins each table once instead of running subqueries per ticket. The
    joins multiply rows: with o replies, c answered calls and e disqualifying events, the
    reply rows number o·max(c,1)·max(e,1) and the call rows c·max(o,1)·max(e,1). Only
    tickets with e = 0 can count, and for them the sum is 1 exactly when o + c = 1 (both
    0 gives 0, both at least 1 gives 2·o·c ≥ 2, one of them 0 gives the other). MIN is
    not affected."""
    chat = Q(channel=Channel.CHAT, first_out__isnull=False)
    handle = Greatest(
        F("first_resolved_at") - F("first_out"), Value(timedelta(0)), output_field=DurationField()
    )
    totals = (
        Ticket.objects.filter(
            client=client, first_resolved_at__gte=period.start, first_resolved_at__lt=period.end
        )
        .order_by()
        .annotate(
            # Replies count once their transport accepted them, at the accepted instant; an
            # agent's call back (an outbound call) is one of those replies. A notice kefu
            # writes itself (an escalation's expected completion) is no agent's reply.
            replies=FilteredRelation(
                "deliveries",
                condition=Q(deliveries__accepted_at__isnull=False, deliveries__is_reply=True),
            ),
            answered=FilteredRelation(
                "calls",
                condition=Q(
                    calls__answered_at__isnull=False, calls__direction=CallDirection.INBOUND
                ),
            ),
            disqualifying=FilteredRelation(
                "events",
                # The type first: SQLite then does the date arithmetic (a Python
                # function there) only for reopenings.
                condition=Q(events__type=EventType.ESCALATED)
                | (
                    Q(events__type=EventType.REOPENED)
                    & Q(events__at__gte=F("first_resolved_at"))
                    & Q(events__at__lte=F("first_resolved_at") + REOPEN_WINDOW)
                ),
            ),
        )
        .annotate(
            contacts=Count("replies") + Count("answered"),
            flags=Count("disqualifying"),
            first_out=Min("replies__accepted_at"),
        )
        .aggregate(
            n=Count("pk"),
            first_contact=Count("pk", filter=Q(contacts=1, flags=0)),
            chat_n=Count("pk", filter=chat),
            chat_handle=Sum(handle, filter=chat),
        )
    )
    chat_handle = totals.pop("chat_handle")
    return {**totals, "chat_seconds": chat_handle.total_seconds() if chat_handle else 0.0}


def first_response_kpi(client: Client, period: Period) -> dict[str, Any]:
    """Business time from creation to the first agent reply that reached the customer
    (accepted by its transport, at the accepted instant), on the calendar of the ticket's
    first-response target (its SLA clock); tickets without one are not counted."""
    first_out = Subquery(
        Delivery.objects.filter(
            ticket=OuterRef("ticket_id"), accepted_at__isnull=False, is_reply=True
        )
        .order_by("accepted_at")
        .values("accepted_at")[:1]
    )
    rows = (
        SlaClock.objects.filter(
            client=client,
            metric=Metric.FIRST_RESPONSE,
            ticket__created_at__gte=period.start,
            ticket__created_at__lt=period.end,
        )
        .exclude(status=ClockStatus.CANCELLED)
        .order_by()
        .annotate(first_out=first_out)
        .filter(first_out__isnull=False)
        .values_list("target_id", "ticket__created_at", "first_out")
    )
    targets: dict[int, SlaTarget] = {}
    seconds: list[float] = []
    within = 0
    for target_id, created, out in rows:
        target = targets.get(target_id)
        if target is None:
            target = targets[target_id] = SlaTarget.objects.select_related("calendar").get(
                pk=target_id
            )
        elapsed = calendar_engine(target.calendar).elapsed(created, max(out, created))
        seconds.append(elapsed)
        within += elapsed <= target.seconds
    mean = kpi.mean(sum(seconds), len(seconds))
    return {
        **mean,
        "median": kpi.median(seconds),
        "within_target": kpi.ratio(within, len(seconds)),
    }


def call_kpis(client: Client, period: Period, service_level_s: int) -> dict[str, Any]:
    calls = Call.objects.filter(
        client=client,
        direction=CallDirection.INBOUND,
        offered_at__gte=period.start,
        offered_at__lt=period.end,
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
    """CSAT and the response rate over the surveys sent in the period (a survey queued or
    failed was never sent and counts nowhere), overall and per channel the survey went by
    (email, sms, portal, chat, phone)."""
    rows = (
        Survey.objects.filter(client=client, sent_at__gte=period.start, sent_at__lt=period.end)
        .order_by()
        .values_list("channel")
        .annotate(
            sent=Count("id"),
            answered=Count("id", filter=Q(score__isnull=False)),
            satisfied=Count("id", filter=Q(score__gte=4)),
        )
    )
    by_channel = {}
    totals = {"sent": 0, "answered": 0, "satisfied": 0}
    for channel, sent, answered, satisfied in rows:
        for key, n in (("sent", sent), ("answered", answered), ("satisfied", satisfied)):
            totals[key] += n
        by_channel[channel or "-"] = {
            "surveys_sent": sent,
            "surveys_answered": answered,
            "csat": kpi.ratio(satisfied, answered),
            "survey_response_rate": kpi.ratio(answered, sent),
        }
    return {
        "volume": {"surveys_sent": totals["sent"], "surveys_answered": totals["answered"]},
        "kpis": {
            "csat": kpi.ratio(totals["satisfied"], totals["answered"]),
            "survey_response_rate": kpi.ratio(totals["answered"], totals["sent"]),
        },
        "by_channel": dict(sorted(by_channel.items())),
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


def chat_first_response_target(client: Client) -> SlaTarget | None:
    """The chat first-response target of the client's active SLA policy: the
    first-response target the policy applies to a new chat (channel chat, normal priority,
    an inquiry: the first matching target in the policy's order, as the SLA clocks choose),
    provided it names chat among its channels. A target for every channel is a ticket
    target (hours, not seconds) and gives no chat target."""
    targets = SlaTarget.objects.filter(
        policy__client=client, policy__active=True, metric=Metric.FIRST_RESPONSE
    ).order_by("order", "id")
    for target in targets:
        if target.matches(channel=Channel.CHAT, priority=Priority.NORMAL, kind=Kind.INQUIRY):
            return target if Channel.CHAT in target.channels else None
    return None


def _offered_chats(client: Client, period: Period) -> list[kpi.Chat]:
    """The chats started in the period that joined the queue (a message left out of hours
    was never offered to anyone), their instants as intervals after joining it: the
    database subtracts, which also spares turning five aware datetimes per chat into
    Python objects (several times slower than the intervals on PostgreSQL)."""

    def since_queued(field: str) -> ExpressionWrapper:
        return ExpressionWrapper(F(field) - F("queued_at"), output_field=DurationField())

    rows = (
        Conversation.objects.filter(
            client=client,
            started_at__gte=period.start,
            started_at__lt=period.end,
            queued_at__isnull=False,
        )
        .order_by()
        .annotate(
            written=since_queued("first_customer_at"),
            accepted=since_queued("accepted_at"),
            answered=since_queued("answered_at"),
            ended=since_queued("ended_at"),
        )
        .values_list(
            "written",
            "accepted",
            "answered",
            "ended",
            "status",
            "widget__max_wait_seconds",
            "answered_by_id",
            "agent_id",
        )
        .iterator(chunk_size=5000)
    )
    return [
        kpi.Chat(
            written=_seconds(written),
            accepted=_seconds(accepted),
            answered=_seconds(answered),
            ended=_seconds(ended),
            gave_up=status == ConversationStatus.LEFT_MESSAGE,
            max_wait_s=max_wait,
            agent=answered_by or agent,
        )
        for written, accepted, answered, ended, status, max_wait, answered_by, agent in rows
    ]


def _seconds(interval: timedelta | None) -> float | None:
    return None if interval is None else interval.total_seconds()


def _agent_rows(per_agent: dict[Any, kpi.Figure]) -> list[dict[str, Any]]:
    """The chats-per-agent table: the agent's name as shown in kefu (frozen into an issued
    report), chats answered and their mean first response; most chats first."""
    names = {
        pk: display_name or username
        for pk, display_name, username in User.objects.filter(pk__in=per_agent).values_list(
            "pk", "display_name", "username"
        )
    }
    rows = [
        {
            "agent": names.get(pk, str(pk)),
            "agent_id": pk,
            "answered": int(f["denominator"]),
            "first_response": f,
        }
        for pk, f in per_agent.items()
    ]
    rows.sort(key=lambda row: (-row["answered"], row["agent"]))
    return rows


def chat_kpis(client: Client, period: Period) -> dict[str, Any]:
    """The live chat figures of DESIGN.md (``asa_chat``, ``chat_abandon_rate``) and the
    issue's (``chat_queue_wait``, ``chat_first_response``, ``chats_per_agent``), with the
    chat volumes and the chats-per-agent table. ``aht_chat`` comes from the chat tickets
    (:func:`ticket_kpis`)."""
    chats = _offered_chats(client, period)
    target = chat_first_response_target(client)
    offered, abandoned, short = kpi.chat_abandons(chats)
    per_agent = kpi.chats_by_agent(chats)
    first_response = kpi.chat_first_response(chats, target.seconds if target else None)
    return {
        "volume": {
            "chats_offered": offered,
            "chats_answered": int(first_response["denominator"]),
            "chats_abandoned": abandoned,
            "chats_short_abandoned": short,
        },
        "kpis": {
            "asa_chat": kpi.asa_chat(chats),
            "chat_queue_wait": kpi.chat_queue_wait(chats),
            "chat_first_response": first_response,
            "chat_abandon_rate": kpi.chat_abandon_rate(chats),
            "chats_per_agent": kpi.chats_per_agent(chats),
        },
        "agents": _agent_rows(per_agent),
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
    chats = chat_kpis(client, period)
    return {
        "client": client.code,
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "time_zone": client.time_zone,
        },
        "service_level_threshold_s": service_level_s,
        "volume": {
            **tickets["volume"],
            **calls["volume"],
            **chats["volume"],
            **surveys["volume"],
        },
        "kpis": {
            **tickets["kpis"],
            **calls["kpis"],
            **chats["kpis"],
            **surveys["kpis"],
            "first_response": first_response_kpi(client, period),
            **sla_kpis(client, period),
        },
        "chat_agents": chats["agents"],
        "surveys_by_channel": surveys["by_channel"],
    }
