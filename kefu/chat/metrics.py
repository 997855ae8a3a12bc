"""The chat app's figures for ``/metrics`` (kefu.core.metrics): chats waiting in the queue
(and for how long the first of them has waited) and chats in progress, by client."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from kefu.chat.models import Conversation, ConversationStatus


def chat_metrics() -> Iterator[Metric]:
    now = timezone.now()
    waiting = GaugeMetricFamily(
        "kefu_chats_waiting", "Chats in the queue waiting for an agent", labels=["client"]
    )
    oldest = GaugeMetricFamily(
        "kefu_chats_waiting_oldest_seconds",
        "How long the first chat in the queue has waited",
        labels=["client"],
    )
    rows = (
        Conversation.objects.filter(status=ConversationStatus.WAITING, queued_at__isnull=False)
        .order_by()
        .values("client__code")
        .annotate(n=Count("id"), first=Min("queued_at"))
    )
    for row in rows:
        waiting.add_metric([row["client__code"]], row["n"])
        oldest.add_metric([row["client__code"]], max(0.0, (now - row["first"]).total_seconds()))
    yield waiting
    yield oldest

    active = GaugeMetricFamily(
        "kefu_chats_active", "Chats an agent has taken and not yet ended", labels=["client"]
    )
    rows = (
        Conversation.objects.filter(status=ConversationStatus.ACTIVE)
        .order_by()
        .values("client__code")
        .annotate(n=Count("id"))
    )
    for row in rows:
        active.add_metric([row["client__code"]], row["n"])
    yield active
