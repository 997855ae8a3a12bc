"""Prometheus metrics at ``/metrics`` (django-prometheus' exporter and middleware).

Three kinds of figures:

- per request, from django-prometheus' middleware: latency by view (the URL pattern's name)
  and method, responses by status, and so on (``django_http_*``); with prometheus_client's
  process figures (memory, CPU, open files: ``process_*``);
- per process, kept here: open WebSocket connections by consumer
  (:func:`websocket_opened` / :func:`websocket_closed`, called by the consumers);
- read from the database at scrape time, through a registry: core counts the task queue
  (:mod:`kefu.core.task_metrics`); apps add their figures in their ``AppConfig.ready()`` with
  :func:`metrics_register` (``core`` names no app). Each source runs a few aggregate
  queries; one that fails is left out of that scrape and shows as
  ``kefu_metrics_source_up{source=…} 0``.

This module is imported by the WebSocket consumers before Django is set up: it imports no
models.

The page answers only a bearer token (``KEFU_METRICS_TOKEN``) or an address of
``KEFU_METRICS_ALLOW``; anyone else gets 404, as if there were no such page."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY, CollectorRegistry, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from kefu.core.net import address_in, client_ip

log = logging.getLogger(__name__)

MetricSource = Callable[[], Iterable[Metric]]

_sources: dict[str, MetricSource] = {}


def metrics_register(*, name: str, collect: MetricSource) -> None:
    """Add a source of figures read at scrape time: ``collect()`` returns prometheus_client
    metric families (``GaugeMetricFamily``, ``CounterMetricFamily``) named ``kefu_…``.
    Registering the same name again replaces it."""
    _sources[name] = collect


def metrics_unregister(name: str) -> None:
    _sources.pop(name, None)


def metrics_sources() -> list[str]:
    return list(_sources)


class DatabaseCollector:
    """The registered sources, as one prometheus_client collector."""

    def describe(self) -> list[Metric]:
        # Without this, registering the collector would run every source once (to learn its
        # names) at start-up, before the database may be there.
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kefu_metrics_source_up",
            "1 when the source's figures were read in this scrape, 0 when it failed",
            labels=["source"],
        )
        seconds = GaugeMetricFamily(
            "kefu_metrics_source_seconds",
            "Time this scrape spent reading the source from the database",
            labels=["source"],
        )
        for name, source in list(_sources.items()):
            started = time.perf_counter()
            try:
                families = list(source())
            except Exception:
                log.warning("metrics source %s failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            finally:
                seconds.add_metric([name], time.perf_counter() - started)
            up.add_metric([name], 1)
            yield from families
        yield up
        yield seconds


_collector = DatabaseCollector()
_installed: set[int] = set()


def metrics_install(registry: CollectorRegistry = REGISTRY) -> None:
    """Put the database sources into ``registry`` (once)."""
    if id(registry) not in _installed:
        registry.register(_collector)
        _installed.add(id(registry))


WEBSOCKETS = Gauge(
    "kefu_websocket_connections",
    "WebSocket connections open in this process, by consumer",
    ["consumer"],
)


def websocket_opened(consumer: object) -> None:
    """Count ``consumer``'s socket once it is accepted (again: no effect)."""
    if not getattr(consumer, "_kefu_socket_counted", False):
        consumer._kefu_socket_counted = True  # type: ignore[attr-defined]
        WEBSOCKETS.labels(type(consumer).__name__).inc()


def websocket_closed(consumer: object) -> None:
    """Stop counting ``consumer``'s socket (one never counted: no effect)."""
    if getattr(consumer, "_kefu_socket_counted", False):
        consumer._kefu_socket_counted = False  # type: ignore[attr-defined]
        WEBSOCKETS.labels(type(consumer).__name__).dec()


def metrics_allowed(request: HttpRequest) -> bool:
    """``Authorization: Bearer <KEFU_METRICS_TOKEN>``, or a request from an address of
    ``KEFU_METRICS_ALLOW``. A forwarded request (``X-Forwarded-For``) while no proxy is
    trusted came through a proxy kefu cannot see past: its peer address is the proxy's,
    not the scraper's, so only the token lets it in."""
    token: str = settings.KEFU_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    bearer = sent[len("Bearer ") :].strip() if sent.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    if "HTTP_X_FORWARDED_FOR" in request.META and not settings.KEFU_TRUSTED_PROXIES:
        return False
    return address_in(client_ip(request), settings.KEFU_METRICS_ALLOW)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, from django-prometheus' exporter; 404 to anyone else."""
    if not metrics_allowed(request):
        raise Http404("not found")
    response: HttpResponse = ExportToDjangoView(request)
    return response
