"""Time-driven work: every job of the registry (:mod:`kefu.core.jobs`) when it is due.

:func:`tick` enqueues each due job as its own task (:func:`kefu.core.tasks.job_run`); a
task worker runs it. ``kefu serve`` on the embedded database runs the ticks and a worker in
its own process; elsewhere ``kefu scheduler --every 30`` ticks and ``kefu worker`` runs the
tasks. Any number of schedulers may tick at once: a job is claimed through its
:class:`~kefu.core.models.JobRun` row before it is enqueued, so it runs once."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import close_old_connections, transaction
from django.utils import timezone

from kefu.core import jobs
from kefu.core.tasks import job_run

logger = logging.getLogger(__name__)


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every due job that no other scheduler holds; returns their names.
    ``now`` is passed on to the jobs (None: each job uses the time it runs at)."""
    at = now or timezone.now()
    enqueued = []
    for job in jobs.jobs_registered():
        try:
            with transaction.atomic():
                token = jobs.job_claim(job=job, now=at)
                if token is not None:
                    job_run.enqueue(job.name, token, now.isoformat() if now else None)
                    enqueued.append(job.name)
        except Exception:
            logger.exception("could not enqueue job %s", job.name)
    return enqueued


def run_forever(every: float = 30.0) -> None:
    while True:
        try:
            tick()
        except Exception:
            logger.exception("scheduling failed; retrying in %s s", every)
        finally:
            close_old_connections()
        time.sleep(every)
