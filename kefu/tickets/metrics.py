"""The tickets app's figures for ``/metrics`` (kefu.core.metrics): tickets created and open,
and replies by channel and delivery state. Aggregate counts only, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from kefu.tickets.models import OPEN_STATUSES, Delivery, DeliveryStatus, Ticket


def ticket_metrics() -> Iterator[Metric]:
    created = CounterMetricFamily(
        "kefu_tickets_created",
        "Tickets created, by client and channel",
        labels=["client", "channel"],
    )
    rows = Ticket.objects.order_by().values("client__code", "channel").annotate(n=Count("id"))
    for row in rows:
        created.add_metric([row["client__code"], row["channel"]], row["n"])
    yield created

    open_ = GaugeMetricFamily(
        "kefu_tickets_open",
        "Open tickets (new, open, pending), by client and status",
        labels=["client", "status"],
    )
    rows = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("client__code", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        open_.add_metric([row["client__code"], row["status"]], row["n"])
    yield open_

    outbound = GaugeMetricFamily(
        "kefu_outbound_messages",
        "Replies and notices to customers, by channel and delivery state "
        "(queued, sending, sent, delivered, failed)",
        labels=["channel", "state"],
    )
    for row in Delivery.objects.order_by().values("channel", "status").annotate(n=Count("id")):
        outbound.add_metric([row["channel"], row["status"]], row["n"])
    yield outbound

    oldest = GaugeMetricFamily(
        "kefu_outbound_oldest_undelivered_seconds",
        "Age of the oldest reply still queued or sending, by channel",
        labels=["channel"],
    )
    now = timezone.now()
    rows = (
        Delivery.objects.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
        .order_by()
        .values("channel")
        .annotate(oldest=Min("created_at"))
    )
    for row in rows:
        oldest.add_metric([row["channel"]], max(0.0, (now - row["oldest"]).total_seconds()))
    yield oldest
