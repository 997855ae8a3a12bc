"""Readiness checks for operators (``/readyz``) and the liveness answer (``/healthz``).

Each check answers whether one thing kefu needs is there. ``core`` owns the database, Redis
and task-queue checks; apps add theirs in their ``AppConfig.ready()`` with
:func:`readiness_register` (``core`` names no app). A required check that fails makes the
instance unready (503); an optional one (``required=False``) is reported as a warning only.

The answers are served without login: a check's detail holds counts and ages, never a
person's data, and error messages are scrubbed of connection strings and credentials."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Case, F, Min, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    detail: str


CheckFunc = Callable[[], CheckOutcome]


@dataclass(frozen=True, kw_only=True)
class ReadinessCheck:
    name: str
    func: CheckFunc
    # False: a failure is a warning, the instance stays ready.
    required: bool = True


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    name: str
    ok: bool
    required: bool
    detail: str
    ms: float

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "required": self.required, "detail": self.detail, "ms": self.ms}


_registry: dict[str, ReadinessCheck] = {}


def readiness_register(*, name: str, func: CheckFunc, required: bool = True) -> ReadinessCheck:
    """Add a readiness check. Registering the same name again replaces it (an app's
    ``ready()`` may run more than once in tests)."""
    check = ReadinessCheck(name=name, func=func, required=required)
    _registry[name] = check
    return check


def readiness_unregister(name: str) -> None:
    _registry.pop(name, None)


def readiness_checks() -> list[ReadinessCheck]:
    """Every registered check, in the order registered (core's own first)."""
    return list(_registry.values())


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def _secrets() -> list[str]:
    found: list[str] = []
    db = settings.DATABASES.get(DEFAULT_DB_ALIAS, {})
    for key in ("PASSWORD", "USER", "HOST", "NAME"):
        value = str(db.get(key) or "")
        if len(value) >= 3:
            found.append(value)
    if settings.REDIS_URL:
        found.append(settings.REDIS_URL)
    return sorted(found, key=len, reverse=True)


def _scrub(text: str) -> str:
    """An error message without connection strings, credentials, host or database names."""
    text = _URL.sub("<url>", text)
    for secret in _secrets():
        text = text.replace(secret, "<hidden>")
    return " ".join(text.split())[:200]


def readiness_run_one(check: ReadinessCheck) -> CheckReport:
    started = time.perf_counter()
    try:
        outcome = check.func()
    except Exception as exc:
        outcome = CheckOutcome(ok=False, detail=f"{type(exc).__name__}: {_scrub(str(exc))}")
    ms = round((time.perf_counter() - started) * 1000, 1)
    return CheckReport(
        name=check.name, ok=outcome.ok, required=check.required, detail=outcome.detail, ms=ms
    )


def readiness_report() -> tuple[bool, dict[str, object]]:
    """``(ready, body)``: ready when every required check passes. ``status`` is ``ok``,
    ``warning`` (an optional check failed) or ``unready``."""
    reports = [readiness_run_one(check) for check in readiness_checks()]
    ready = all(r.ok for r in reports if r.required)
    status = "unready" if not ready else ("ok" if all(r.ok for r in reports) else "warning")
    return ready, {"status": status, "checks": {r.name: r.as_dict() for r in reports}}


def check_database() -> CheckOutcome:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    return CheckOutcome(ok=row is not None and row[0] == 1, detail="SELECT 1")


def check_redis() -> CheckOutcome:
    if not settings.REDIS_URL:
        return CheckOutcome(ok=True, detail="skipped: REDIS_URL not set")
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return CheckOutcome(ok=True, detail="PING")


def oldest_waiting_task_age(now: datetime | None = None) -> float | None:
    """Seconds the oldest task that may run now has been waiting (since it was enqueued, or
    since its ``run_after`` passed), or None when none waits."""
    now = now or timezone.now()
    never = get_date_max()
    since = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .exclude(run_after__gt=now, run_after__lt=never)
        .annotate(
            since=Case(
                When(run_after=Value(never), then=F("enqueued_at")),
                default=Greatest(F("enqueued_at"), F("run_after")),
            )
        )
        .aggregate(oldest=Min("since"))["oldest"]
    )
    return None if since is None else max(0.0, (now - since).total_seconds())


def check_task_queue() -> CheckOutcome:
    limit = settings.KEFU_READY_MAX_TASK_AGE
    age = oldest_waiting_task_age()
    if age is None:
        return CheckOutcome(ok=True, detail="no task waiting")
    return CheckOutcome(
        ok=age <= limit, detail=f"oldest waiting task: {age:.0f} s (limit {limit} s)"
    )


readiness_register(name="database", func=check_database)
readiness_register(name="redis", func=check_redis)
readiness_register(name="task_queue", func=check_task_queue)
