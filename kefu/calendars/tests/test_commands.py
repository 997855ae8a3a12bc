from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kefu.calendars.models import Calendar, HolidayYear, StatutoryDay
from kefu.conftest import Tenant
from kefu.sla.models import SlaClock
from kefu.sla.tests.conftest import EXAMPLES, frozen, sh
from kefu.tickets import services

CN = EXAMPLES / "calendars" / "cn-standard.yaml"


def _run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    if stdin:
        import sys
        from unittest import mock

        with mock.patch.object(sys, "stdin", io.StringIO(stdin)):
            call_command("calendar", *args, stdout=out)
    else:
        call_command("calendar", *args, stdout=out)
    return out.getvalue().strip()


def forget_years_from(year: int) -> None:
    """As if ``year`` and later were not published yet, whatever the installed
    chinesecalendar knows (``kefu migrate`` fills every year it knows)."""
    StatutoryDay.objects.filter(date__year__gte=year).delete()
    HolidayYear.objects.filter(year__gte=year).delete()


@pytest.fixture
def cn(db: None) -> Calendar:
    forget_years_from(2027)
    _run("load", str(CN))
    _run("sync", "--year", "2026")
    return Calendar.objects.get(name="cn-standard")


def test_due_elapsed_and_day(cn: Calendar) -> None:
    assert (
        _run(
            "due",
            "--calendar",
            "cn-standard",
            "--start",
            "2026-11-20T20:00:00+08:00",
            "--minutes",
            "240",
        )
        == "2026-11-23T14:30:00+08:00"
    )
    lines = _run(
        "due",
        "--calendar",
        "cn-standard",
        stdin="2026-11-23T09:00:00+08:00 180\n2026-11-23T11:00:00+08:00 90\n",
    )
    assert lines.splitlines() == ["2026-11-23T12:00:00+08:00", "2026-11-23T14:00:00+08:00"]
    assert _run(
        "elapsed",
        "--calendar",
        "cn-standard",
        "--start",
        "2026-11-23T08:00:00+08:00",
        "--end",
        "2026-11-23T14:00:00+08:00",
    ) == str(3 * 3600 + 30 * 60)
    holiday = json.loads(_run("day", "--calendar", "cn-standard", "2026-02-17"))
    assert holiday["open"] is False and "节假日" in holiday["reason"]
    makeup = json.loads(_run("day", "--calendar", "cn-standard", "2026-02-14"))
    assert makeup["open"] is True and makeup["hours"] == ["09:00-12:00", "13:30-18:00"]
    assert "调休" in makeup["reason"]
    own = json.loads(_run("day", "--calendar", "cn-standard", "2026-12-26"))
    assert own["hours"] == ["09:00-12:00"]


def test_bad_input_is_one_clear_error(cn: Calendar, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no calendar"):
        _run("due", "--calendar", "nope", "--start", "2026-11-23T09:00", "--minutes", "1")
    with pytest.raises(CommandError, match="line 2"):
        _run("due", "--calendar", "cn-standard", stdin="2026-11-23T09:00 5\nbad\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nweekly:\n  mon: ['18:00-09:00']\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"weekly\.mon\[0\]"):
        _run("load", str(bad))


def test_unknown_year_is_reported_not_assumed(cn: Calendar) -> None:
    err = io.StringIO()
    call_command("calendar", "sync", "--year", "2099", stdout=io.StringIO(), stderr=err)
    assert "2099" in err.getvalue()
    assert not HolidayYear.objects.filter(year=2099).exists()
    day = json.loads(_run("day", "--calendar", "cn-standard", "2099-01-05"))
    assert day["provisional"] is True


def test_due_and_elapsed_say_when_they_are_provisional(cn: Calendar) -> None:
    err = io.StringIO()
    out = io.StringIO()
    args = ["due", "--calendar", "cn-standard", "--start", "2026-12-30T17:00:00+08:00"]
    call_command("calendar", *args, "--minutes", "600", stdout=out, stderr=err)
    # 30 Dec 17:00-18:00, 31 Dec is the calendar's own closed day, Friday 1 Jan 2027 gives
    # 7.5 h (nothing says it is New Year's Day: 2027 is not entered), Monday 4 Jan 1.5 h.
    assert out.getvalue().strip() == "2027-01-04T10:30:00+08:00 provisional"
    assert "2027" in err.getvalue() and "暂定" in err.getvalue()
    err, out = io.StringIO(), io.StringIO()
    call_command("calendar", *args, "--minutes", "60", stdout=out, stderr=err)
    assert out.getvalue().strip() == "2026-12-30T18:00:00+08:00"
    assert err.getvalue() == ""
    out = io.StringIO()
    call_command(
        "calendar",
        "elapsed",
        "--calendar",
        "cn-standard",
        "--start",
        "2026-12-30T09:00:00+08:00",
        "--end",
        "2027-01-01T10:00:00+08:00",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert out.getvalue().strip() == f"{7 * 3600 + 1800 + 3600} provisional"


def test_load_recomputes_running_clocks_on_the_calendar(tenant_a: Tenant, tmp_path: Path) -> None:
    from kefu.sla.policies import sla_policy_load

    office = tmp_path / "office.yaml"
    office.write_text("name: office\nweekly: {mon: ['09:00-18:00']}\nholidays: none\n")
    _run("load", str(office))
    sla_policy_load(
        text="client: ACME\ntargets:\n  - {metric: resolution, minutes: 600, calendar: office}\n"
    )
    start = sh(2026, 11, 23, 9, 0)  # a Monday
    with frozen(start):
        ticket = services.ticket_create(
            client=tenant_a.client, subject="周一", body="x", channel="email", created_at=start
        )
    clock = SlaClock.objects.get(ticket=ticket)
    assert clock.due_at == sh(2026, 11, 30, 10, 0)
    office.write_text("name: office\nweekly: {mon: ['09:00-19:00']}\nholidays: none\n")
    assert "recomputed 1 running SLA clock" in _run("load", str(office))
    clock.refresh_from_db()
    assert clock.due_at == sh(2026, 11, 23, 19, 0)
    assert clock.events.filter(type="recomputed").exists()


def test_admins_are_warned_from_november_when_next_year_is_missing(tenant_a: Tenant) -> None:
    from kefu.conftest import login

    forget_years_from(2027)
    with frozen(sh(2026, 11, 2, 10, 0)):
        page = login(tenant_a.supervisor).get("/tickets/").content.decode()
        assert "holiday-warning" in page and "2027" in page
        assert "holiday-warning" not in login(tenant_a.agent).get("/tickets/").content.decode()
        HolidayYear.objects.create(year=2027)
        assert "holiday-warning" not in login(tenant_a.supervisor).get("/tickets/").content.decode()
    with frozen(sh(2026, 10, 30, 10, 0)):
        HolidayYear.objects.filter(year=2027).delete()
        assert "holiday-warning" not in login(tenant_a.supervisor).get("/tickets/").content.decode()
