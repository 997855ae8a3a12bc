"""``kefu doctor`` as an operator runs it after a deployment: each thing that is wrong is one
line saying what and how to fix it, in Chinese and English, and the exit status is 1; a
healthy deployment says "没有发现问题 / no problems found" and exits 0."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kefu.calendars.models import HolidayYear
from kefu.chat.models import ChatWidget
from kefu.conftest import Tenant
from kefu.contracts.models import Client, Contract
from kefu.core import doctor_checks
from kefu.core.doctor import NO_PROBLEMS, doctor_register, doctor_unregister
from kefu.core.models import JobRun
from kefu.core.tasks import job_run
from kefu.mail.models import Mailbox
from kefu.privacy.fields import Sealed
from kefu.tickets.models import Customer

ROOT = Path(__file__).resolve().parents[3]
GOOD_SECRET = "Zq7-mP9_xR2.wK4" * 4


def doctor() -> tuple[int, list[str]]:
    """``(exit status, lines)`` of ``kefu doctor``."""
    out = io.StringIO()
    try:
        call_command("doctor", stdout=out)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, out.getvalue().splitlines()


def _problems(lines: list[str], check: str) -> list[str]:
    return [line for line in lines if line.startswith(f"[问题 / problem] {check}:")]


def _contract(client: Client, *channels: str) -> Contract:
    today = timezone.localdate()
    return Contract.objects.create(
        client=client,
        number=f"HT-{client.code}-{len(channels)}",
        title="客户服务外包合同",
        party_a=client.name,
        party_b="乙方服务公司",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=335),
        monthly_fee=100000,
        channels=list(channels),
    )


@pytest.fixture
def healthy(tenant_a: Tenant, settings: object) -> Tenant:
    """A deployment with nothing wrong: migrated, holidays in, the contract's channels
    configured, no Redis configured, no task waiting."""
    settings.REDIS_URL = ""  # type: ignore[attr-defined]
    settings.PRODUCTION = False  # type: ignore[attr-defined]
    year = timezone.localdate().year
    for y in (year, year + 1):
        HolidayYear.objects.get_or_create(year=y)
    _contract(tenant_a.client, "email", "chat", "phone")
    ChatWidget.objects.create(
        client=tenant_a.client, origins=["https://www.acme.cn"], privacy_notice="隐私告知"
    )
    return tenant_a


def test_a_healthy_deployment(healthy: Tenant) -> None:
    status, lines = doctor()
    assert status == 0, lines
    assert lines[-1] == NO_PROBLEMS == "没有发现问题 / no problems found"
    assert not [line for line in lines if line.startswith("[问题")]
    if connections[DEFAULT_DB_ALIAS].vendor == "sqlite":
        assert any(line.startswith("[说明 / note] clock:") for line in lines)


def _one_problem(check: str) -> str:
    status, lines = doctor()
    assert status == 1, lines
    found = _problems(lines, check)
    assert len(found) == 1, lines
    assert lines[-1].startswith("发现 1 个问题 / 1 problem"), lines
    assert " → 处理 / fix: " in found[0]
    return found[0]


def test_a_weak_secret_key_in_production(healthy: Tenant, settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    Mailbox.objects.filter(client=healthy.client).update(smtp_host="smtp.acme.cn")
    settings.SECRET_KEY = "django-insecure-" + "k3y" * 20  # type: ignore[attr-defined]
    line = _one_problem("secret_key")
    assert "SECRET_KEY" in line and "secrets.token_urlsafe(50)" in line
    # The example environment file's value passes the start-up check (32+ characters).
    settings.SECRET_KEY = "change-me-to-a-long-random-string"  # type: ignore[attr-defined]
    _one_problem("secret_key")
    settings.SECRET_KEY = GOOD_SECRET  # type: ignore[attr-defined]
    assert doctor()[0] == 0


def _kefu_doctor(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "KEFU_FIELD_KEYS", "KEFU_INDEX_KEY", "KEFU_PRODUCTION"}
    }
    return subprocess.run(
        [sys.executable, "-m", "kefu", "doctor"],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_or_field_keys(tmp_path: Path) -> None:
    """Settings that keep kefu from starting at all are still explained, not a traceback."""
    run = _kefu_doctor(KEFU_PRODUCTION="1", KEFU_VAR_DIR=str(tmp_path))
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("[问题 / problem] settings:")
    assert "SECRET_KEY" in run.stdout and "Traceback" not in run.stdout + run.stderr

    secret = "s" + "x7Kp" * 15
    run = _kefu_doctor(KEFU_PRODUCTION="1", KEFU_VAR_DIR=str(tmp_path), SECRET_KEY=secret)
    assert run.returncode == 1, run.stderr
    assert "KEFU_FIELD_KEYS" in run.stdout and "kefu encryption generate-key" in run.stdout
    assert secret not in run.stdout


def test_a_log_format_kefu_does_not_know(tmp_path: Path) -> None:
    run = _kefu_doctor(KEFU_LOG_FORMAT="xml", KEFU_VAR_DIR=str(tmp_path))
    assert run.returncode == 1, run.stderr
    assert "KEFU_LOG_FORMAT" in run.stdout and "must be text or json" in run.stdout


def test_no_mailbox_for_a_client_whose_contract_lists_email(healthy: Tenant) -> None:
    Mailbox.objects.filter(client=healthy.client).update(active=False)
    line = _one_problem("mail")
    assert "ACME" in line and "email" in line
    Mailbox.objects.filter(client=healthy.client).update(active=True)
    assert doctor()[0] == 0


def test_a_mailbox_that_cannot_send(healthy: Tenant) -> None:
    Mailbox.objects.create(client=healthy.client, address="service@acme.cn", smtp_host="")
    line = _one_problem("mail")
    assert "service@acme.cn" in line and "SMTP" in line


def test_mail_written_to_files_in_production(healthy: Tenant, settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    settings.SECRET_KEY = GOOD_SECRET  # type: ignore[attr-defined]
    line = _one_problem("mail")
    assert "files" in line and "outbox@acme.kefu.test" in line


def test_no_chat_widget_for_a_client_whose_contract_lists_chat(healthy: Tenant) -> None:
    ChatWidget.objects.filter(client=healthy.client).update(revoked_at=timezone.now())
    line = _one_problem("chat")
    assert "ACME" in line and "chat" in line
    ChatWidget.objects.create(client=healthy.client, origins=[], privacy_notice="隐私告知")
    _one_problem("chat")  # a widget no site may open serves nobody


def _on(day: date) -> mock._patch[mock.MagicMock]:
    return mock.patch("kefu.calendars.doctor.timezone.localdate", return_value=day)


def test_next_years_holidays_missing(healthy: Tenant) -> None:
    year = timezone.localdate().year
    HolidayYear.objects.filter(year=year + 1).delete()
    with (
        _on(date(year, 12, 1)),
        mock.patch("kefu.calendars.health.timezone.localdate", return_value=date(year, 12, 1)),
    ):
        line = _one_problem("holidays")
    assert str(year + 1) in line and f"kefu calendar sync --year {year + 1}" in line
    # Before December the days are usually not published yet: a note, not a problem.
    with (
        _on(date(year, 6, 1)),
        mock.patch("kefu.calendars.health.timezone.localdate", return_value=date(year, 6, 1)),
    ):
        status, lines = doctor()
    assert status == 0, lines
    assert any(line.startswith("[说明 / note] holidays:") for line in lines)


def test_this_years_holidays_missing(healthy: Tenant) -> None:
    year = timezone.localdate().year
    HolidayYear.objects.filter(year=year).delete()
    line = _one_problem("holidays")
    assert f"{year}" in line


def _waiting_task(age: timedelta) -> None:
    result = job_run.enqueue(name="core.prune_job_results", token="t")
    DBTaskResult.objects.filter(id=result.id).update(enqueued_at=timezone.now() - age)


def test_worker_not_running(healthy: Tenant, settings: object) -> None:
    settings.KEFU_READY_MAX_TASK_AGE = 300  # type: ignore[attr-defined]
    _waiting_task(timedelta(seconds=60))
    assert doctor()[0] == 0  # waiting a minute is normal
    _waiting_task(timedelta(minutes=20))
    line = _one_problem("worker")
    assert "no task worker is running" in line and "kefu worker" in line


def test_workers_too_few(healthy: Tenant, settings: object) -> None:
    settings.KEFU_READY_MAX_TASK_AGE = 300  # type: ignore[attr-defined]
    _waiting_task(timedelta(minutes=20))
    done = job_run.enqueue(name="core.prune_job_results", token="done")
    DBTaskResult.objects.filter(id=done.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - timedelta(seconds=30)
    )
    line = _one_problem("worker")
    assert "behind" in line and "more kefu worker" in line


def test_scheduler_not_running(healthy: Tenant) -> None:
    JobRun.objects.create(name="sla.sweep", due_at=timezone.now() - timedelta(minutes=3))
    assert doctor()[0] == 0  # a few minutes late: a scheduler may be busy
    JobRun.objects.filter(name="sla.sweep").update(due_at=timezone.now() - timedelta(hours=2))
    line = _one_problem("scheduler")
    assert "sla.sweep" in line and "kefu scheduler" in line


def test_clock_skew_against_the_database(healthy: Tenant) -> None:
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        pytest.skip("SQLite has no server clock to compare with (the healthy case notes it)")
    assert doctor()[0] == 0
    real = doctor_checks.time.time
    with mock.patch.object(doctor_checks.time, "time", side_effect=lambda: real() - 60):
        line = _one_problem("clock")
    assert "ahead of" in line and "chrony" in line


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redis_unreachable_when_configured(healthy: Tenant, settings: object) -> None:
    settings.REDIS_URL = f"redis://:pw-secret@127.0.0.1:{_closed_port()}/0"  # type: ignore[attr-defined]
    line = _one_problem("redis")
    assert "REDIS_URL" in line and "pw-secret" not in line


def test_unapplied_migrations(healthy: Tenant) -> None:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    last = executor.loader.get_migration("tickets", "0001_initial")
    with mock.patch.object(MigrationExecutor, "migration_plan", return_value=[(last, False)]):
        status, lines = doctor()
    assert status == 1
    assert "tickets.0001_initial" in _problems(lines, "migrations")[0]
    # What would only fail the same way is skipped, with a note.
    assert any(line.startswith("[说明 / note] mail: ") for line in lines)


def test_database_unreachable(healthy: Tenant) -> None:
    conn = connections[DEFAULT_DB_ALIAS]
    failure = OperationalError("could not connect to server: postgres://kefu:s3cret@db/kefu")
    with mock.patch.object(conn, "cursor", side_effect=failure):
        status, lines = doctor()
    assert status == 1
    (line,) = _problems(lines, "database")
    assert "DATABASE_URL" in line and "s3cret" not in "\n".join(lines)


def test_values_under_a_key_that_is_not_configured(healthy: Tenant) -> None:
    Customer.objects.filter(pk=healthy.customer.pk).update(name=Sealed("v1:gone:AAAA"))
    line = _one_problem("field_keys")
    assert "KEFU_FIELD_KEYS" in line


def test_blind_indexes_made_with_another_index_key(healthy: Tenant) -> None:
    Customer.objects.filter(pk=healthy.customer.pk).update(phone_key="0" * 32)
    line = _one_problem("index_key")
    assert "kefu encryption reindex" in line


@pytest.fixture
def broken_check() -> Iterator[None]:
    def broken() -> list[object]:
        raise RuntimeError("cannot read postgres://kefu:s3cret@db/kefu")

    doctor_register(name="broken", func=broken)  # type: ignore[arg-type]
    yield
    doctor_unregister("broken")


def test_a_check_that_fails_is_a_problem_and_the_others_still_run(
    healthy: Tenant, broken_check: None
) -> None:
    line = _one_problem("broken")
    assert "RuntimeError" in line and "s3cret" not in line
