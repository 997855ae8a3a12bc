"""The sla app's figures for ``/metrics`` (kefu.core.metrics): running clocks, those at risk
and those overdue, and breaches, by client and metric. Read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from kefu.sla.models import ClockStatus, SlaClock

# A running clock is at risk once its warning instant has passed or it falls due this soon.
AT_RISK_WITHIN = timedelta(hours=1)


def sla_metrics() -> Iterator[Metric]:
    now = timezone.now()
    labels = ["client", "metric"]
    running = GaugeMetricFamily("kefu_sla_clocks_running", "Running SLA clocks", labels=labels)
    at_risk = GaugeMetricFamily(
        "kefu_sla_clocks_at_risk",
        "Running SLA clocks past their warning or due within an hour",
        labels=labels,
    )
    overdue = GaugeMetricFamily(
        "kefu_sla_clocks_overdue",
        "Running SLA clocks past their due time that the sweeper has not yet marked breached",
        labels=labels,
    )
    rows = (
        SlaClock.objects.filter(status=ClockStatus.RUNNING)
        .order_by()
        .values("client__code", "metric")
        .annotate(
            running=Count("id"),
            at_risk=Count("id", filter=Q(warn_at__lte=now) | Q(due_at__lte=now + AT_RISK_WITHIN)),
            overdue=Count("id", filter=Q(due_at__lte=now)),
        )
    )
    for row in rows:
        key = [row["client__code"], row["metric"]]
        running.add_metric(key, row["running"])
        at_risk.add_metric(key, row["at_risk"])
        overdue.add_metric(key, row["overdue"])
    yield running
    yield at_risk
    yield overdue

    breached = CounterMetricFamily("kefu_sla_breaches", "SLA clocks breached", labels=labels)
    rows = (
        SlaClock.objects.filter(status=ClockStatus.BREACHED)
        .order_by()
        .values("client__code", "metric")
        .annotate(n=Count("id"))
    )
    for row in rows:
        breached.add_metric([row["client__code"], row["metric"]], row["n"])
    yield breached
