"""What every request leaves behind, in one middleware: its log line (``kefu.request``, the
fields of :func:`kefu.core.log.request_log`) and its Prometheus figures, kept in
django-prometheus' own metric families and served by its exporter (``/metrics``,
:mod:`kefu.core.metrics`).

Why not django-prometheus' two middlewares: on every request they update sixteen families
(requests by method, by transport, body sizes both ways, charset, AJAX, latency before and
after the middleware chain …), each through ``labels()`` with its validation and lock.
Measured gain (``bench/request_cost.py``, bench/README.md "Seventh run", API ticket create
on PostgreSQL): observing a request took 424 of 5,186 function calls per create with those
two and kefu's log middleware, 167 of 4,928 with this one; in instructions (callgrind) it
was 0.73 M of 8.42 M, and what this saves is inside the spread between passes (±0.1 M).
This middleware keeps the figures issue 19 asks for and dashboards for django-prometheus
read, under the same names and labels:

- ``django_http_requests_latency_seconds_by_view_method`` (view = the URL pattern's name,
  never the path; method) — measured here from the outside of the middleware chain, the
  time the log line gives too;
- ``django_http_responses_total_by_status_view_method``;
- ``django_http_exceptions_total_by_type`` and ``…_by_view`` when a view raises.

It looks each label set's child up once (a dict of its own) instead of calling ``labels()``
per request. The log line is written as before, one per request, with the request id echoed
in ``X-Request-ID``; its fields built from kefu's own code (route, view, method, a request id
kefu made) are named in the record as free of personal data, so the masking filter scans
only the rest (a client code from the URL, a proxy's request id): see
:data:`kefu.core.log.PII_FREE`.

What it relies on in django-prometheus (2.x): ``Metrics.get_instance()`` and the attribute
names of the families above. A release that renames them breaks
``kefu/core/tests/test_metrics.py::test_request_latency_is_counted_by_route_not_by_path``
and ``test_responses_and_exceptions_by_view`` at once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django_prometheus.middleware import Metrics

from kefu.core.log import REQUEST_ID_HEADER, request_context_start, request_log

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
)
UNNAMED = "<unnamed view>"


def method_label(request: HttpRequest) -> str:
    """The method as django-prometheus labels it: anything unusual as one value."""
    method = request.method or ""
    return method if method in _METHODS else "<invalid method>"


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else None) or UNNAMED


class RequestFigures:
    """django-prometheus' families, with each label set's child kept after its first use."""

    def __init__(self) -> None:
        metrics = Metrics.get_instance()
        self._latency_family = metrics.requests_latency_by_view_method
        self._status_family = metrics.responses_by_status_view_method
        self.exceptions_by_type = metrics.exceptions_by_type
        self.exceptions_by_view = metrics.exceptions_by_view
        self._latency: dict[tuple[str, str], Any] = {}
        self._status: dict[tuple[int, str, str], Any] = {}

    def record(self, view: str, method: str, status: int, seconds: float) -> None:
        latency = self._latency.get((view, method))
        if latency is None:
            latency = self._latency[(view, method)] = self._latency_family.labels(
                view=view, method=method
            )
        latency.observe(seconds)
        counter = self._status.get((status, view, method))
        if counter is None:
            counter = self._status[(status, view, method)] = self._status_family.labels(
                status=str(status), view=view, method=method
            )
        counter.inc()


class RequestObserverMiddleware:
    """First in ``MIDDLEWARE``: the duration and status are the ones the client gets. The
    duration ends when the response is ready (a streamed body is still being sent)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.figures = RequestFigures()
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        request_id = request_context_start(request)
        response: HttpResponseBase = self.get_response(request)
        self._done(request, response, request_id, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = request_context_start(request)
        response: HttpResponseBase = await self.get_response(request)
        self._done(request, response, request_id, started)
        return response

    def _done(
        self, request: HttpRequest, response: HttpResponseBase, request_id: str, started: float
    ) -> None:
        seconds = time.perf_counter() - started
        response.headers[REQUEST_ID_HEADER] = request_id
        method = method_label(request)
        self.figures.record(view_label(request), method, response.status_code, seconds)
        request_log(request, response, seconds=seconds, method=method)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        self.figures.exceptions_by_type.labels(type=type(exception).__name__).inc()
        self.figures.exceptions_by_view.labels(view=view_label(request)).inc()
