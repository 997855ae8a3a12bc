"""core's own source of figures for ``/metrics`` (:mod:`kefu.core.metrics`): the task queue."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from kefu.core.health import oldest_waiting_task_age


def task_queue_metrics() -> Iterator[Metric]:
    """core's own source: tasks waiting to run now (by queue), running, and how long the
    oldest has waited (as ``/readyz`` reads it)."""
    depth = GaugeMetricFamily(
        "kefu_task_queue_depth", "Tasks that may run now and wait for a worker", labels=["queue"]
    )
    rows = DBTaskResult.objects.ready().order_by().values("queue_name").annotate(n=Count("id"))
    for row in rows:
        depth.add_metric([row["queue_name"]], row["n"])
    yield depth
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).order_by().count()
    yield GaugeMetricFamily("kefu_tasks_running", "Tasks being run by a worker", value=running)
    yield GaugeMetricFamily(
        "kefu_task_queue_oldest_seconds",
        "How long the oldest task that may run now has waited (0: none waits)",
        value=oldest_waiting_task_age() or 0.0,
    )
