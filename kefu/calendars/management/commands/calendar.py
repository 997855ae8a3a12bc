from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from kefu.calendars import engine, services
from kefu.calendars.models import Calendar
from kefu.sla.services import sla_recompute_for_calendars


def _instant(text: str, calendar: Calendar) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 instant: {text!r}") from exc
    if timezone.is_naive(value):
        # A bare local time is read in the calendar's own zone.
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(calendar.timezone))
    return value


class Command(BaseCommand):
    help = (
        "服务时间日历 / Business calendars: load, sync, due, elapsed, day, list. "
        "Times are ISO 8601; a time without offset is read in the calendar's zone. "
        "A due instant or elapsed time worked out over a year whose holidays are not "
        "entered is followed by 'provisional' (暂定)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="create or update a calendar from YAML")
        load.add_argument("file")
        sync = sub.add_parser("sync", help="refresh statutory holidays from chinesecalendar")
        sync.add_argument(
            "--year",
            type=int,
            action="append",
            help="year to sync (repeatable); default: every year chinesecalendar knows, "
            "this year and next",
        )
        due = sub.add_parser("due", help="due instant of START + N business minutes")
        due.add_argument("--calendar", required=True)
        due.add_argument("--start", help="ISO instant; omit to read 'START MINUTES' lines")
        due.add_argument("--minutes", type=int)
        elapsed = sub.add_parser("elapsed", help="business seconds between two instants")
        elapsed.add_argument("--calendar", required=True)
        elapsed.add_argument("--start", required=True)
        elapsed.add_argument("--end", required=True)
        day = sub.add_parser("day", help="whether and when a date is open, and why")
        day.add_argument("--calendar", required=True)
        day.add_argument("date")
        sub.add_parser("list", help="list calendars")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        self._noted: set[tuple[int, ...]] = set()  # unknown years already explained
        try:
            getattr(self, f"do_{action}")(**opts)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _calendar(self, name: str) -> Calendar:
        calendar = Calendar.objects.filter(name=name).first()
        if calendar is None:
            raise CommandError(f"no calendar named {name!r} (kefu calendar list)")
        return calendar

    def do_load(self, file: str, **_: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        with transaction.atomic():
            calendar, created = services.calendar_load(text=path.read_text(encoding="utf-8"))
            moved = sla_recompute_for_calendars(calendar_ids=[calendar.pk])
        self.stdout.write(f"{'created' if created else 'updated'} calendar {calendar.name}")
        if moved:
            self.stdout.write(f"recomputed {moved} running SLA clock(s)")

    def do_sync(self, year: list[int] | None, **_: Any) -> None:
        years = year or services.statutory_years_default(timezone.localdate())
        with transaction.atomic():
            result = services.statutory_sync(years=years)
            moved = sla_recompute_for_calendars(calendar_ids=result.calendar_ids)
        self.stdout.write(f"synced: {', '.join(map(str, result.synced)) or '—'}")
        self.stdout.write(f"changed: {', '.join(map(str, result.changed)) or '—'}")
        if moved:
            self.stdout.write(f"recomputed {moved} running SLA clock(s)")
        for y in result.unknown:
            self.stderr.write(
                f"{y}: 节假日安排尚未公布，该年的时效为暂定 / holidays for {y} are not published "
                "yet: clocks in that year are provisional until they are entered"
            )

    def _provisional(self, eng: engine.BusinessCalendar, a: datetime, b: datetime) -> str:
        """`` provisional`` (and a note on stderr) when ``a``–``b`` touches a year whose
        holidays are not entered; else nothing."""
        years = eng.unknown_years(a, b)
        if not years:
            return ""
        named = ", ".join(map(str, years))
        if years in self._noted:
            return " provisional"
        self._noted.add(years)
        self.stderr.write(
            f"{named}: 节假日安排未录入，结果为暂定 / holidays for {named} are not entered: "
            "the result is provisional (kefu calendar sync, or enter them in the admin)"
        )
        return " provisional"

    def _due(self, eng: engine.BusinessCalendar, start: datetime, minutes: int) -> str:
        due = eng.add_seconds(start, minutes * 60)
        return due.isoformat() + self._provisional(eng, start, due)

    def do_due(self, calendar: str, start: str | None, minutes: int | None, **_: Any) -> None:
        cal = self._calendar(calendar)
        eng = services.calendar_engine(cal)
        if start is not None:
            if minutes is None or minutes < 0:
                raise CommandError("--minutes N (N ≥ 0) is required with --start")
            self.stdout.write(self._due(eng, _instant(start, cal), minutes))
            return
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise CommandError(f"line {number}: expected 'START MINUTES', got {line.strip()!r}")
            self.stdout.write(self._due(eng, _instant(parts[0], cal), int(parts[1])))

    def do_elapsed(self, calendar: str, start: str, end: str, **_: Any) -> None:
        cal = self._calendar(calendar)
        a, b = _instant(start, cal), _instant(end, cal)
        if b < a:
            raise CommandError("--end is before --start")
        eng = services.calendar_engine(cal)
        self.stdout.write(str(eng.elapsed(a, b)) + self._provisional(eng, a, b))

    def do_day(self, calendar: str, date: str, **_: Any) -> None:
        cal = self._calendar(calendar)
        try:
            day = _parse_date(date)
        except ValueError as exc:
            raise CommandError(f"not a date (YYYY-MM-DD): {date!r}") from exc
        info = services.day_explain(cal, day)
        self.stdout.write(json.dumps(info, ensure_ascii=False))

    def do_list(self, **_: Any) -> None:
        for cal in Calendar.objects.order_by("name"):
            self.stdout.write(f"{cal.name}\t{cal.timezone}\tholidays={cal.holidays}")


def _parse_date(text: str) -> date:
    return date.fromisoformat(text)
