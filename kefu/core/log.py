"""Logging pieces named in ``settings.LOGGING``: the request line, task outcomes, the JSON
formatter and the context (request id, task id) every line of a request or task carries.

Format: ``KEFU_LOG_FORMAT=text`` (the default) writes ``time level logger message``;
``json`` writes one JSON object per line (python-json-logger) with the same fields plus
whatever the line carries (``request_id``, ``route``, ``status`` …). Personal data in lines
is masked by the privacy app's filter, wired in ``settings.LOGGING`` (core names no app)."""

from __future__ import annotations

import logging
import os
import re
from contextlib import suppress
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty
from django_tasks.base import TaskResult, TaskResultStatus
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from kefu.core.net import address_in, client_ip

request_logger = logging.getLogger("kefu.request")
task_logger = logging.getLogger("kefu.task")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id may look like (nginx's $request_id is 32 hex digits; UUIDs too):
# anything else is replaced, so a line never carries a forged quote, newline or essay.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CLIENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
# URL parameters that name a client (reports use ``code``), then ``?client=``.
_CLIENT_KWARGS = ("client", "client_code", "code")

_context: ContextVar[dict[str, Any] | None] = ContextVar("kefu_log_context", default=None)


def log_context() -> dict[str, Any]:
    """The fields every log line of the current request or task carries."""
    return dict(_context.get() or {})


class LogContextFilter(logging.Filter):
    """Puts the current request's or task's fields (:func:`log_context`) on each record, so
    a warning deep in a service names the request it happened in."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class SenderMistakeFilter(logging.Filter):
    """Django answers a request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or with too many
    fields or files with 400, but logs it on ``django.security.<exception>`` as an ERROR
    with the stack trace, as if the server had failed. Such a request is the sender's
    mistake (or a probe): keep the line, as a WARNING without the trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = (
                logging.WARNING,
                logging.getLevelName(logging.WARNING),
            )
        record.exc_info = None
        record.exc_text = None
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, except that a traceback already formatted onto the
    record (``exc_text``: the masking filter leaves the masked one there) is used as it is
    instead of being formatted again from the exception, and uvicorn's terminal-coloured
    copy of its messages (``color_message``) is left out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message", "pii_free"])
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            exc_info, record.exc_info = record.exc_info, None
            try:
                return super().format(record)
            finally:
                record.exc_info = exc_info
        return super().format(record)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request came through a proxy of ``KEFU_TRUSTED_PROXIES``. Under ``kefu
    serve`` uvicorn has already replaced the proxy's address with the client's when the
    peer was one of them, so a forwarded request is recognised by its ``X-Forwarded-For``;
    the servers' ports must then be reachable by the proxies alone (README "Logs")."""
    proxies: list[str] = settings.KEFU_TRUSTED_PROXIES
    if not proxies:
        return False
    return "HTTP_X_FORWARDED_FOR" in request.META or address_in(client_ip(request), proxies)


def request_id_for(request: HttpRequest) -> tuple[str, bool]:
    """The proxy's ``X-Request-ID`` when a trusted proxy sent a well-formed one, else a new
    one; and whether kefu made it."""
    sent = request.META.get("HTTP_X_REQUEST_ID", "")
    if sent and _REQUEST_ID.fullmatch(sent) and _from_trusted_proxy(request):
        return str(sent), False
    return os.urandom(16).hex(), True


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, if something in the request already looked the user up
    (the log never loads a session itself)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped  # type: ignore[attr-defined]
        if user is empty:
            return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


def _client_code(request: HttpRequest) -> str | None:
    match = request.resolver_match
    kwargs = match.kwargs if match is not None else {}
    value: object = next((kwargs[k] for k in _CLIENT_KWARGS if kwargs.get(k)), None)
    if value is None and request.META.get("QUERY_STRING"):
        try:
            value = request.GET.get("client")
        except (SuspiciousOperation, ValueError):
            return None
    return value if isinstance(value, str) and _CLIENT_CODE.fullmatch(value) else None


# The request line's fields that kefu builds from its own code and numbers: the URL
# pattern, the view's name, a known method, a request id kefu made. Named on the record
# (``pii_free``) so the masking filter leaves them unscanned; a proxy's request id, the
# client code from the URL and the user id are not in it.
PII_FREE = ("message", "route", "view", "method")


def request_log(
    request: HttpRequest, response: HttpResponseBase, *, seconds: float, method: str
) -> None:
    """The request's line on ``kefu.request``; ``method`` as the metrics label it (a
    method nobody uses is one value, never the sender's text)."""
    if not request_logger.isEnabledFor(logging.INFO):
        return
    match = request.resolver_match
    route = f"/{match.route}" if match is not None and match.route is not None else None
    duration_ms = round(seconds * 1000, 1)
    ours = request.__dict__.get(_ID_IS_OURS, False)
    request_logger.info(
        "%s %s %s %.1f ms",
        method,
        route or "-",
        response.status_code,
        duration_ms,
        extra={
            "user_id": _user_id(request),
            "client": _client_code(request),
            "route": route,
            "view": match.view_name if match is not None else None,
            "method": method,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "pii_free": (*PII_FREE, "request_id") if ours else PII_FREE,
        },
    )


_ID_IS_OURS = "_kefu_request_id_is_ours"


def request_context_start(request: HttpRequest) -> str:
    """Start the request's log context and return its id; the context lasts until the
    request is finished (:func:`request_context_end`), past the middleware, so that the
    lines Django writes after the middleware chain (``django.request``'s "Not Found" …)
    carry the id too. The middleware that calls it: :mod:`kefu.core.observe`."""
    request_id, ours = request_id_for(request)
    request.__dict__[_ID_IS_OURS] = ours
    _context.set({"request_id": request_id})
    return request_id


def request_context_end(sender: object, **kwargs: Any) -> None:
    """``request_finished``: lines after the request no longer carry its id."""
    _context.set(None)


_task_contexts: dict[str, Token[dict[str, Any] | None]] = {}


def _task_name(task_result: TaskResult[Any]) -> str:
    return str(task_result.task.module_path)


def task_log_started(sender: object, task_result: TaskResult[Any], **kwargs: Any) -> None:
    """``task_started``: lines the task writes carry its id and name."""
    token = _context.set(
        {**(_context.get() or {}), "task_id": task_result.id, "task": _task_name(task_result)}
    )
    _task_contexts[task_result.id] = token


JOB_TASK = "kefu.core.tasks.job_run"


def _job_name(task_result: TaskResult[Any]) -> str | None:
    """The job a ``job_run`` task ran (its first argument, ``name``)."""
    name = task_result.kwargs.get("name") or (task_result.args[0] if task_result.args else None)
    return name if isinstance(name, str) else None


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() * 1000, 1)


def task_log_finished(sender: object, task_result: TaskResult[Any], **kwargs: Any) -> None:
    """``task_finished``: one line per task run (``kefu.task``) with its name, id, status
    and duration; a periodic job's run also names the job and its outcome."""
    token = _task_contexts.pop(task_result.id, None)
    if token is not None:
        try:
            _context.reset(token)
        except ValueError:  # finished in another context than it started in
            _context.set(None)
    status = str(task_result.status)
    failed = task_result.status == TaskResultStatus.FAILED
    fields: dict[str, Any] = {
        "task": _task_name(task_result),
        "task_id": task_result.id,
        "status": status.lower(),
        "duration_ms": _ms(task_result.started_at, task_result.finished_at),
    }
    if failed and task_result.errors:
        fields["error"] = task_result.errors[-1].exception_class_path
    job = _job_name(task_result) if fields["task"] == JOB_TASK else None
    if job:
        fields["job"] = job
        if not failed:
            with suppress(ValueError):
                fields["outcome"] = str(task_result.return_value)
    task_logger.log(
        logging.WARNING if failed else logging.INFO,
        "task %s%s %s %s ms",
        fields["task"],
        f" ({fields['job']})" if job else "",
        fields["status"],
        fields["duration_ms"],
        extra=fields,
    )


def uvicorn_log_options() -> dict[str, Any]:
    """What ``kefu serve`` passes to uvicorn: its loggers go through ``settings.LOGGING``
    (JSON like the rest when ``KEFU_LOG_FORMAT=json``), and its access line is left out:
    :class:`RequestLogMiddleware` writes one per request with more in it."""
    return {"log_config": None, "access_log": False}
