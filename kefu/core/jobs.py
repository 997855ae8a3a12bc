"""The registry of periodic jobs.

Each app registers its own jobs in its ``AppConfig.ready()`` with :func:`job_register`;
``core`` names none of them. The scheduler (:mod:`kefu.core.scheduler`) enqueues every due
job as its own task, so one failing job never stops the others.

A job is a callable taking ``now`` (an aware datetime, or None for "the current time" —
tests pass a fixed instant). It must be safe to run again after a crash: the scheduler
guarantees that two processes never run the same job at the same time, not that a job
interrupted halfway is never started again."""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kefu.core.models import JobOutcome, JobRun

JobFunc = Callable[[datetime | None], object]

DEFAULT_LEASE = timedelta(minutes=15)


@dataclass(frozen=True, kw_only=True)
class Job:
    name: str
    every: timedelta  # how long after one run's start the next one falls due
    func: JobFunc
    # How long a claim holds when its task never reports back (a crashed worker): after
    # that another scheduler may start the job again. Longer than the job ever runs.
    lease: timedelta = DEFAULT_LEASE


_registry: dict[str, Job] = {}


def job_register(
    *, name: str, every: timedelta, func: JobFunc, lease: timedelta = DEFAULT_LEASE
) -> Job:
    """Add a periodic job. Registering the same name again replaces it (an app's ``ready()``
    may run more than once in tests); ``name`` is what the job's run record is kept under,
    so keep it stable (``"<app>.<what>"``)."""
    if every <= timedelta(0) or lease <= timedelta(0):
        raise ValueError(f"job {name}: every and lease must be positive")
    if len(name) > 100:
        raise ValueError(f"job name longer than 100 characters: {name}")
    job = Job(name=name, every=every, func=func, lease=lease)
    _registry[name] = job
    return job


def job_unregister(name: str) -> None:
    _registry.pop(name, None)


def job_get(name: str) -> Job | None:
    return _registry.get(name)


def jobs_registered() -> list[Job]:
    """Every registered job, by name."""
    return [_registry[name] for name in sorted(_registry)]


def job_claim(*, job: Job, now: datetime) -> str | None:
    """Take the job if it is due and nobody holds it; returns the claim token, or None.
    The next run falls due ``job.every`` after this one."""
    JobRun.objects.bulk_create([JobRun(name=job.name)], ignore_conflicts=True)
    token = uuid.uuid4().hex
    free = Q(claim="") | Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    due = Q(due_at__isnull=True) | Q(due_at__lte=now)
    won = JobRun.objects.filter(free & due, name=job.name).update(
        claim=token,
        claimed_at=now,
        lease_until=now + job.lease,
        due_at=now + job.every,
    )
    return token if won == 1 else None


def job_execute(*, name: str, token: str, now: datetime | None = None) -> str:
    """Run one claimed job and record its outcome; the body of the job's task. Returns
    ``"ok"``, or ``"superseded"`` when the claim is no longer this task's (its lease ran out
    and another scheduler took the job). A failing job is recorded and its exception
    re-raised, so its task is marked failed too."""
    started = timezone.now()
    job = job_get(name)
    lease = job.lease if job else DEFAULT_LEASE
    held = JobRun.objects.filter(name=name, claim=token).update(
        started_at=started, lease_until=started + lease
    )
    if held != 1:
        return "superseded"
    try:
        if job is None:
            raise LookupError(f"no job registered under {name!r}")
        job.func(now)
    except Exception as exc:
        _finish(name, token, JobOutcome.FAILED, "".join(traceback.format_exception(exc)))
        raise
    _finish(name, token, JobOutcome.OK, "")
    return "ok"


def _finish(name: str, token: str, outcome: JobOutcome, error: str) -> None:
    JobRun.objects.filter(name=name, claim=token).update(
        claim="",
        lease_until=None,
        finished_at=timezone.now(),
        outcome=outcome,
        error=error[-4000:],
        runs=F("runs") + 1,
        failures=F("failures") + (1 if outcome == JobOutcome.FAILED else 0),
    )


KEEP_RESULTS = timedelta(days=2)


def job_prune_results(now: datetime | None) -> None:
    """Delete the task rows of job runs that succeeded more than two days ago (a tick every
    30 s would otherwise add thousands a day); failed runs stay for a look, and each job's
    last outcome stays in its :class:`JobRun` row."""
    before = (now or timezone.now()) - KEEP_RESULTS
    DBTaskResult.objects.filter(
        task_path="kefu.core.tasks.job_run",
        status=TaskResultStatus.SUCCESSFUL,
        finished_at__lt=before,
    ).delete()
