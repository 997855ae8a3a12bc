"""The admin's calendar forms refuse what the YAML loader refuses, with the same words on
the same field, and every save moves the running clocks that depend on it. The weekly hours
are edited as one row of intervals per weekday, not as JSON text."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from kefu.accounts.models import User
from kefu.calendars.models import Calendar, StatutoryDay
from kefu.calendars.services import calendar_load, calendar_parse
from kefu.calendars.tests.test_commands import forget_years_from
from kefu.conftest import Tenant, login
from kefu.sla.models import SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.sla.tests.conftest import EXAMPLES, frozen, sh
from kefu.tickets import services as tickets

ADD = "/admin/calendars/calendar/add/"
GOOD_WEEKLY = {"mon": ["09:00-12:00", "13:30-18:00"]}

# (field, value, the loader's path in the error) — each refused by both. (A weekly value
# that is not a mapping of weekdays to lists cannot be typed into the rows at all.)
BAD = [
    ("weekly", {"mon": ["18:00-09:00"]}, "weekly.mon[0]"),
    ("weekly", {"mon": ["9:00-12:00"]}, "weekly.mon[0]"),
    ("weekly", {"mon": ["09:00-12:00", "11:00-13:00"]}, "weekly.mon[1]"),
    ("weekly", {"fri": ["09:00-12:00", "24:00-24:30"]}, "weekly.fri[1]"),
    ("weekly", {"mon": []}, "weekly"),
    ("timezone", "Asia/Beijing", "timezone"),
    ("timezone", "../etc/passwd", "timezone"),
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rows(weekly: dict[str, list[str]]) -> dict[str, str]:
    """The weekly editor's seven rows, as a browser posts them."""
    return {f"weekly_{day}": ", ".join(weekly.get(day, [])) for day in WEEKDAYS}


def _form(**fields: Any) -> dict[str, Any]:
    data = {
        "name": "office",
        "timezone": "Asia/Shanghai",
        **_rows(GOOD_WEEKLY),
        "holidays": "none",
        "exceptions-TOTAL_FORMS": "0",
        "exceptions-INITIAL_FORMS": "0",
        "exceptions-MIN_NUM_FORMS": "0",
        "exceptions-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    return data


@pytest.fixture
def admin_http(admin_user: User) -> HttpClient:
    return login(admin_user)


@pytest.mark.parametrize(("field", "value", "path"), BAD)
def test_the_admin_refuses_what_the_loader_refuses_on_the_named_field(
    admin_http: HttpClient, field: str, value: Any, path: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        calendar_parse({"name": "office", "weekly": GOOD_WEEKLY, field: value})
    loader_says = refused.value.messages[0]
    assert loader_says.startswith(f"{path}:")

    posted = _rows(value) if field == "weekly" else {field: value}
    page = admin_http.post(ADD, _form(**posted))
    assert page.status_code == 200
    assert page.context["adminform"].form.errors[field] == [loader_says]
    assert not Calendar.objects.filter(name="office").exists()


def test_a_bad_exception_row_is_refused_on_its_hours(admin_http: HttpClient) -> None:
    page = admin_http.post(
        ADD,
        _form(
            **{
                "exceptions-TOTAL_FORMS": "1",
                "exceptions-0-date": "2026-12-26",
                "exceptions-0-hours": "09:00-25:00",
                "exceptions-0-note": "",
            }
        ),
    )
    assert page.status_code == 200
    errors = page.context["inline_admin_formsets"][0].formset.errors
    assert errors[0]["hours"][0].startswith("hours[0]:")
    assert not Calendar.objects.filter(name="office").exists()


def test_a_good_calendar_saves_and_matches_the_loader(admin_http: HttpClient) -> None:
    page = admin_http.post(
        ADD,
        _form(
            timezone=" Asia/Shanghai",
            **{
                "weekly_mon": " 09:00-12:00，13:30-18:00 ",
                "exceptions-TOTAL_FORMS": "1",
                "exceptions-0-date": "2026-12-26",
                "exceptions-0-hours": "",
                "exceptions-0-note": "年会",
            },
        ),
    )
    assert page.status_code == 302
    saved = Calendar.objects.get(name="office")
    spec = calendar_parse(
        yaml.safe_load("name: office\nweekly: {mon: [' 09:00-12:00', 13:30-18:00]}")
    )
    assert (saved.timezone, saved.weekly) == (spec.timezone, spec.weekly)
    assert saved.exceptions.get().hours == []


@pytest.fixture
def running_clock(tenant_a: Tenant) -> SlaClock:
    forget_years_from(2027)
    calendar_load(text=(EXAMPLES / "calendars" / "cn-standard.yaml").read_text(encoding="utf-8"))
    sla_policy_load(
        text="client: ACME\ntargets:\n"
        "  - {metric: resolution, minutes: 4500, calendar: cn-standard}\n"
    )
    start = sh(2026, 12, 28, 9, 0)  # runs into 2027, whose holidays are not entered
    with frozen(start):
        ticket = tickets.ticket_create(
            client=tenant_a.client, subject="跨年", body="x", channel="email", created_at=start
        )
    return SlaClock.objects.get(ticket=ticket)


def test_entering_a_year_in_the_admin_recomputes_running_clocks(
    running_clock: SlaClock, admin_http: HttpClient
) -> None:
    clock = running_clock
    assert clock.provisional
    before = clock.due_at
    page = admin_http.post(
        "/admin/calendars/statutoryday/add/",
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
    )
    assert page.status_code == 302
    # A day typed in the admin is the admin's: a later sync keeps it.
    assert StatutoryDay.objects.get(date="2027-01-01").source == "manual"
    clock.refresh_from_db()
    assert clock.due_at is not None and before is not None and clock.due_at > before
    assert clock.provisional  # 2027 is not marked as entered yet
    page = admin_http.post(
        "/admin/calendars/holidayyear/add/", {"year": "2027", "source": "manual"}
    )
    assert page.status_code == 302
    clock.refresh_from_db()
    assert not clock.provisional
    assert clock.events.filter(type="recomputed").exists()


def test_changing_a_calendar_in_the_admin_moves_its_clocks(
    running_clock: SlaClock, admin_http: HttpClient
) -> None:
    calendar = Calendar.objects.get(name="cn-standard")
    exceptions = list(calendar.exceptions.order_by("date"))
    before = running_clock.due_at
    data = _form(
        name="cn-standard",
        holidays="cn",
        **_rows({d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}),
        **{"exceptions-TOTAL_FORMS": str(len(exceptions))},
    )
    data["exceptions-INITIAL_FORMS"] = str(len(exceptions))
    for i, exc in enumerate(exceptions):
        data[f"exceptions-{i}-id"] = str(exc.pk)
        data[f"exceptions-{i}-calendar"] = str(calendar.pk)
        data[f"exceptions-{i}-date"] = exc.date.isoformat()
        data[f"exceptions-{i}-hours"] = ", ".join(exc.hours)
        data[f"exceptions-{i}-note"] = exc.note
    page = admin_http.post(f"/admin/calendars/calendar/{calendar.pk}/change/", data)
    assert page.status_code == 302, page.context["adminform"].form.errors
    running_clock.refresh_from_db()
    assert running_clock.due_at is not None and before is not None
    assert running_clock.due_at < before  # longer days: due sooner
    assert running_clock.events.filter(type="recomputed").exists()


def test_the_admin_pages_open(admin_http: HttpClient) -> None:
    calendar_load(text=(EXAMPLES / "calendars" / "cn-standard.yaml").read_text(encoding="utf-8"))
    calendar = Calendar.objects.get(name="cn-standard")
    page = admin_http.get(f"/admin/calendars/calendar/{calendar.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    # One row per weekday holding that day's intervals, not a JSON text box.
    assert 'name="weekly_mon"' in html and 'value="09:00-12:00, 13:30-18:00"' in html
    assert "{&quot;mon&quot;" not in html
    day = StatutoryDay.objects.get(date="2026-10-01")
    page = admin_http.get(f"/admin/calendars/statutoryday/{day.pk}/change/")
    assert page.status_code == 200
    assert 'name="source"' not in page.content.decode()  # shown, not editable
    assert admin_http.get("/admin/calendars/holidayyear/").status_code == 200


@pytest.mark.parametrize("how", ["one", "action"])
def test_deleting_a_holiday_in_the_admin_moves_clocks_sooner(
    tenant_a: Tenant, admin_http: HttpClient, how: str
) -> None:
    calendar_load(text=(EXAMPLES / "calendars" / "cn-standard.yaml").read_text(encoding="utf-8"))
    sla_policy_load(
        text="client: ACME\ntargets:\n"
        "  - {metric: resolution, minutes: 900, calendar: cn-standard}\n"
    )
    start = sh(2026, 9, 30, 9, 0)  # the eve of National Day
    with frozen(start):
        ticket = tickets.ticket_create(
            client=tenant_a.client, subject="节前", body="x", channel="email", created_at=start
        )
    clock = SlaClock.objects.get(ticket=ticket)
    before = clock.due_at
    day = StatutoryDay.objects.get(date="2026-10-01")
    if how == "one":
        page = admin_http.post(f"/admin/calendars/statutoryday/{day.pk}/delete/", {"post": "yes"})
    else:
        page = admin_http.post(
            "/admin/calendars/statutoryday/",
            {"action": "delete_selected", "_selected_action": [str(day.pk)], "post": "yes"},
        )
    assert page.status_code == 302
    clock.refresh_from_db()
    # 15 h: 7.5 on 30 September, 7.5 on 1 October once it is a working day again.
    assert clock.due_at == sh(2026, 10, 1, 18, 0) and before is not None
    assert clock.due_at < before
