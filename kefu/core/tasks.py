"""Background work of the core mechanisms. Thin: the scheduler's job runner."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from kefu.core.jobs import job_execute


@task()
def job_run(name: str, token: str, now: str | None = None) -> str:
    """Run one periodic job that a scheduler claimed (see :mod:`kefu.core.scheduler`)."""
    return job_execute(
        name=name, token=token, now=datetime.fromisoformat(now) if now is not None else None
    )
