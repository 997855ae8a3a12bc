"""Statutory days are in the database from ``kefu migrate`` on, the sync writes only what
differs, and the scheduler's daily job syncs and moves running clocks by itself."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from kefu.calendars import services
from kefu.calendars.install import statutory_days_after_migrate
from kefu.calendars.models import HolidayYear, StatutoryDay
from kefu.conftest import Tenant, run_tasks
from kefu.core import jobs, scheduler
from kefu.sla.models import SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.sla.tests.conftest import EXAMPLES, frozen, sh
from kefu.tickets import services as tickets

CN = EXAMPLES / "calendars" / "cn-standard.yaml"

# (start, business minutes, due) on cn-standard (weekdays 09:00-12:00 and 13:30-18:00).
ACROSS_HOLIDAYS = [
    # Friday before the 2024 Spring Festival (10-17 Feb): Sunday 4 Feb is a make-up day.
    ("2024-02-02T17:00:00+08:00", 120, "2024-02-04T10:00:00+08:00"),
    # Friday 9 Feb 2024, the eve: the next working day is the make-up Sunday, 18 Feb.
    ("2024-02-09T17:00:00+08:00", 120, "2024-02-18T10:00:00+08:00"),
    # National Day 2025 (1-8 Oct); Saturday 11 Oct is a make-up day.
    ("2025-09-30T17:00:00+08:00", 120, "2025-10-09T10:00:00+08:00"),
    ("2025-10-10T17:00:00+08:00", 120, "2025-10-11T10:00:00+08:00"),
    # Spring Festival 2026 (15-23 Feb); Saturday 14 and 28 Feb are make-up days.
    ("2026-02-13T17:00:00+08:00", 120, "2026-02-14T10:00:00+08:00"),
    ("2026-02-14T17:00:00+08:00", 120, "2026-02-24T10:00:00+08:00"),
]


def _due(start: str, minutes: int) -> str:
    out = io.StringIO()
    call_command(
        "calendar",
        "due",
        "--calendar",
        "cn-standard",
        "--start",
        start,
        "--minutes",
        str(minutes),
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue().strip()


@pytest.mark.django_db
def test_migrate_alone_brings_the_statutory_days() -> None:
    # The test database was made by migrate; nothing has synced.
    assert {2024, 2025, 2026} <= set(HolidayYear.objects.values_list("year", flat=True))
    assert StatutoryDay.objects.get(date=date(2024, 2, 12)).kind == "holiday"
    assert StatutoryDay.objects.get(date=date(2024, 2, 4)).kind == "workday"
    assert StatutoryDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "minutes", "due"), ACROSS_HOLIDAYS)
def test_a_loaded_calendar_skips_holidays_and_counts_make_up_days(
    start: str, minutes: int, due: str
) -> None:
    call_command("calendar", "load", str(CN), stdout=io.StringIO())
    assert _due(start, minutes) == due


def test_a_new_database_gives_holiday_aware_due_dates_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(KEFU_VAR_DIR=str(tmp_path), PYTHONPATH=str(settings.PROJECT_DIR))

    def kefu(*args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "kefu", *args],
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    kefu("migrate", "--verbosity", "0")
    kefu("calendar", "load", str(CN))
    lines = "".join(f"{start} {minutes}\n" for start, minutes, _ in ACROSS_HOLIDAYS)
    answers = kefu("calendar", "due", "--calendar", "cn-standard", stdin=lines)
    assert answers.splitlines() == [due for _, _, due in ACROSS_HOLIDAYS]


@pytest.mark.django_db
def test_after_migrate_missing_days_come_back_and_hand_entered_ones_stay() -> None:
    StatutoryDay.objects.filter(date__year=2025).delete()
    StatutoryDay.objects.create(
        date=date(2025, 10, 1), kind="holiday", name="国庆", source="manual"
    )
    HolidayYear.objects.filter(year=2025).delete()
    statutory_days_after_migrate(using="default", verbosity=0)
    assert HolidayYear.objects.filter(year=2025).exists()
    assert StatutoryDay.objects.filter(date__year=2025).count() > 20
    assert StatutoryDay.objects.get(date=date(2025, 10, 1)).source == "manual"


@pytest.mark.django_db
def test_sync_writes_only_what_differs() -> None:
    assert services.statutory_sync(years=[2025, 2026]).changed == []
    StatutoryDay.objects.filter(date=date(2026, 2, 16)).update(kind="workday", name="x")
    StatutoryDay.objects.filter(date=date(2026, 2, 14)).delete()
    result = services.statutory_sync(years=[2025, 2026, 2099])
    assert (result.synced, result.changed, result.unknown) == ([2025, 2026], [2026], [2099])
    assert StatutoryDay.objects.get(date=date(2026, 2, 16)).kind == "holiday"
    assert StatutoryDay.objects.get(date=date(2026, 2, 14)).kind == "workday"


def test_sync_covers_every_published_year_and_the_next() -> None:
    years = services.statutory_years_default(date(2026, 12, 5))
    assert years[0] == 2004 and years[-2:] == [2026, 2027]


def test_the_scheduler_syncs_daily_and_moves_running_clocks(tenant_a: Tenant) -> None:
    job = jobs.job_get("sla.statutory_sync")
    assert job is not None and job.every == timedelta(days=1)

    call_command("calendar", "load", str(CN), stdout=io.StringIO())
    sla_policy_load(
        text="client: ACME\ntargets:\n"
        "  - {metric: resolution, minutes: 600, calendar: cn-standard}\n"
    )
    # As if 2026's days had never been entered when the ticket came in.
    StatutoryDay.objects.filter(date__year=2026).delete()
    HolidayYear.objects.filter(year=2026).delete()
    services.calendar_engine_cache_clear()
    start = sh(2026, 2, 13, 9, 0)
    with frozen(start):
        ticket = tickets.ticket_create(
            client=tenant_a.client, subject="节前", body="x", channel="email", created_at=start
        )
    clock = SlaClock.objects.get(ticket=ticket)
    assert clock.provisional and clock.due_at == sh(2026, 2, 16, 11, 30)

    assert "sla.statutory_sync" in scheduler.tick(start)
    run_tasks("job_run")
    clock.refresh_from_db()
    # Friday 7.5 h, then the make-up Saturday 14 Feb: 2.5 h more by 11:30.
    assert clock.due_at == sh(2026, 2, 14, 11, 30)
    assert not clock.provisional
    assert clock.events.filter(type="recomputed").exists()

    # Once a day: an hour later it is not due, a day later it runs again.
    assert "sla.statutory_sync" not in scheduler.tick(sh(2026, 2, 13, 10, 0))
    assert "sla.statutory_sync" in scheduler.tick(sh(2026, 2, 14, 9, 0))
