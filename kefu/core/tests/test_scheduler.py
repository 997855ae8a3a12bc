"""The job registry and the scheduler: each registered job runs as its own task, once, and
its outcome is kept."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.conftest import run_tasks
from kefu.core import jobs, scheduler
from kefu.core.models import JobRun

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def only_test_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """An empty registry for the test (the apps' own jobs come back afterwards); yields the
    log of job runs."""
    monkeypatch.setattr(jobs, "_registry", {})
    yield []


def _recorder(log: list[str], name: str) -> jobs.JobFunc:
    def run(now: datetime | None) -> None:
        log.append(f"{name}@{now.isoformat() if now else 'now'}")

    return run


def _broken(now: datetime | None) -> None:
    raise RuntimeError("IMAP server unreachable")


def test_the_apps_register_their_jobs() -> None:
    names = {job.name for job in jobs.jobs_registered()}
    assert {
        "sla.sweep",
        "tickets.escalation_promises",
        "contracts.renewal_reminders",
        "reports.issue_due",
        "privacy.retention",
        "mail.poll",
        "mail.outbound_retry",
    } <= names


@pytest.mark.django_db
def test_a_failing_job_does_not_stop_the_others(only_test_jobs: list[str]) -> None:
    jobs.job_register(name="a.broken", every=timedelta(seconds=30), func=_broken)
    jobs.job_register(
        name="b.works", every=timedelta(seconds=30), func=_recorder(only_test_jobs, "b")
    )
    assert sorted(scheduler.tick(NOW)) == ["a.broken", "b.works"]
    assert run_tasks("job_run") == 2
    assert only_test_jobs == [f"b@{NOW.isoformat()}"]
    broken = JobRun.objects.get(name="a.broken")
    assert broken.outcome == "failed" and "IMAP server unreachable" in broken.error
    assert broken.failures == 1 and broken.claim == ""
    assert JobRun.objects.get(name="b.works").outcome == "ok"
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1
    # Not due again until its interval has passed; then it is tried again.
    assert scheduler.tick(NOW + timedelta(seconds=10)) == []
    assert sorted(scheduler.tick(NOW + timedelta(seconds=30))) == ["a.broken", "b.works"]


@pytest.mark.django_db
def test_a_new_apps_job_is_picked_up_by_registering_it(only_test_jobs: list[str]) -> None:
    assert scheduler.tick(NOW) == []
    jobs.job_register(
        name="wechat.refresh_token",
        every=timedelta(minutes=5),
        func=_recorder(only_test_jobs, "wechat"),
    )
    assert scheduler.tick(NOW) == ["wechat.refresh_token"]
    run_tasks("job_run")
    assert only_test_jobs == [f"wechat@{NOW.isoformat()}"]
    run = JobRun.objects.get(name="wechat.refresh_token")
    assert run.outcome == "ok" and run.runs == 1
    assert run.due_at == NOW + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_job_still_queued_or_running_is_not_enqueued_again(only_test_jobs: list[str]) -> None:
    jobs.job_register(
        name="slow.job",
        every=timedelta(seconds=30),
        func=_recorder(only_test_jobs, "slow"),
        lease=timedelta(minutes=10),
    )
    assert scheduler.tick(NOW) == ["slow.job"]
    # The worker is busy: the task waits, the interval passes, the claim still holds.
    assert scheduler.tick(NOW + timedelta(minutes=5)) == []
    # The worker died: after the lease another scheduler may take the job.
    assert scheduler.tick(NOW + timedelta(minutes=11)) == ["slow.job"]
    tasks = list(DBTaskResult.objects.order_by("enqueued_at", "id"))
    assert len(tasks) == 2
    # The first task, its claim superseded, does not run the job a second time.
    assert run_tasks("job_run") == 2
    assert tasks[0].__class__.objects.get(pk=tasks[0].pk).return_value == "superseded"
    assert only_test_jobs == [f"slow@{(NOW + timedelta(minutes=11)).isoformat()}"]


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_ticking_at_once_enqueue_each_job_once(
    only_test_jobs: list[str],
) -> None:
    for i in range(5):
        jobs.job_register(
            name=f"job.{i}", every=timedelta(seconds=30), func=_recorder(only_test_jobs, str(i))
        )
    enqueued: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def scheduler_process() -> None:
        try:
            barrier.wait()
            enqueued.extend(scheduler.tick(NOW))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(enqueued) == [f"job.{i}" for i in range(5)]
    assert run_tasks("job_run") == 5
    assert sorted(only_test_jobs) == sorted(f"{i}@{NOW.isoformat()}" for i in range(5))


@pytest.mark.django_db
def test_scheduler_list_shows_each_jobs_last_outcome(only_test_jobs: list[str]) -> None:
    jobs.job_register(name="a.broken", every=timedelta(minutes=1), func=_broken)
    jobs.job_register(name="b.never", every=timedelta(hours=1), func=_broken)
    scheduler.tick(NOW)
    JobRun.objects.filter(name="b.never").update(claim="", lease_until=None)
    run_tasks("job_run")
    out = io.StringIO()
    call_command("scheduler", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a.broken") and "every     60 s" in lines[0]
    assert "failed (1 runs, 1 failed)" in lines[0]
    assert lines[1].startswith("b.never") and lines[1].endswith("—")
