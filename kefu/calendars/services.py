"""Calendars as data: YAML in, statutory days synced, and the pure engine value built from
the rows (cached per process until a row changes)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from kefu.calendars import cn_holidays, engine
from kefu.calendars.models import (
    Calendar,
    CalendarException,
    DayKind,
    HolidayMode,
    HolidayYear,
    StatutoryDay,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")


def _check_intervals(value: Any, path: str) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError(f"{path}: 应为时间段列表 / expected a list like ['09:00-12:00']")
    out = []
    last_end = -1
    for i, item in enumerate(value):
        text = str(item).strip()
        m = _INTERVAL.match(text)
        if not m:
            raise ValidationError(
                f"{path}[{i}]: 无效的时间段 / bad interval {item!r} (HH:MM-HH:MM)"
            )
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = 24 * 60 if m.group(3) == "24:00" else int(m.group(4)) * 60 + int(m.group(5))
        if end <= start or start < last_end:
            raise ValidationError(
                f"{path}[{i}]: 时间段需递增且不重叠 / intervals must increase and not overlap"
            )
        last_end = end
        out.append(text)
    return out


def _check_date(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"{path}: 无效日期 / bad date {value!r} (YYYY-MM-DD)") from exc


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str
    weekly: dict[str, list[str]]
    holidays: str
    closed: list[date]
    open: dict[date, list[str]]


def calendar_parse(data: Any) -> CalendarSpec:
    """Validate a calendar document (the YAML form in the README); errors name the field."""
    if not isinstance(data, dict):
        raise ValidationError("日历文件应为映射 / a calendar file is a mapping (name, timezone, …)")
    unknown = set(data) - {"name", "timezone", "weekly", "holidays", "closed", "open"}
    if unknown:
        raise ValidationError(
            f"未知字段 / unknown field(s): {', '.join(sorted(map(str, unknown)))}"
        )
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError("name: 必填 / required")
    tz = str(data.get("timezone") or "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"timezone: 未知时区 / unknown time zone {tz!r}") from exc
    weekly_raw = data.get("weekly") or {}
    if not isinstance(weekly_raw, dict):
        raise ValidationError("weekly: 应为 mon…sun 到时间段的映射 / expected a mapping")
    weekly = {}
    for day, intervals in weekly_raw.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"weekly.{day}: 应为 mon…sun / expected one of {WEEKDAYS}")
        weekly[day] = _check_intervals(intervals, f"weekly.{day}")
    holidays = str(data.get("holidays", "cn"))
    if holidays not in HolidayMode.values:
        raise ValidationError("holidays: 应为 cn 或 none / expected 'cn' or 'none'")
    closed_raw = data.get("closed") or []
    if not isinstance(closed_raw, list):
        raise ValidationError("closed: 应为日期列表 / expected a list of dates")
    closed = [_check_date(d, f"closed[{i}]") for i, d in enumerate(closed_raw)]
    open_raw = data.get("open") or {}
    if not isinstance(open_raw, dict):
        raise ValidationError("open: 应为 日期: 时间段 的映射 / expected date: intervals")
    opened = {
        _check_date(d, f"open.{d}"): _check_intervals(v, f"open.{d}") for d, v in open_raw.items()
    }
    return CalendarSpec(name, tz, weekly, holidays, closed, opened)


@transaction.atomic
def calendar_load(*, text: str) -> tuple[Calendar, bool]:
    """Create or update (by name) a calendar from YAML; returns it and whether it was new.
    Running SLA clocks on it are recomputed in the same transaction."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"YAML 格式错误 / invalid YAML: {exc}") from exc
    spec = calendar_parse(data)
    calendar, created = Calendar.objects.update_or_create(
        name=spec.name,
        defaults={"timezone": spec.timezone, "weekly": spec.weekly, "holidays": spec.holidays},
    )
    CalendarException.objects.filter(calendar=calendar).delete()
    rows = [CalendarException(calendar=calendar, date=d, hours=[]) for d in spec.closed]
    rows += [
        CalendarException(calendar=calendar, date=d, hours=h)
        for d, h in spec.open.items()
        if d not in spec.closed
    ]
    CalendarException.objects.bulk_create(rows)
    if not created:
        _recompute_clocks([calendar.pk])
    else:
        # SQLite gives the ids of rolled-back rows out again: an engine cached for a
        # calendar that was never committed must not stand for this one.
        with _CACHE_LOCK:
            _ENGINE_CACHE.pop(calendar.pk, None)
    return calendar, created


def calendar_dump(calendar: Calendar) -> dict[str, Any]:
    exceptions = list(calendar.exceptions.all())
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "weekly": calendar.weekly,
        "holidays": calendar.holidays,
        "closed": [e.date.isoformat() for e in exceptions if not e.hours],
        "open": {e.date.isoformat(): e.hours for e in exceptions if e.hours},
    }


@dataclass(frozen=True)
class SyncResult:
    synced: list[int]
    unknown: list[int]


@transaction.atomic
def statutory_sync(*, years: list[int]) -> SyncResult:
    """Refresh the statutory days of ``years`` from chinesecalendar. Days an admin entered
    by hand (``source != 'chinesecalendar'``) are kept. A year the library does not know is
    reported in ``unknown`` and left as it is."""
    synced, unknown = [], []
    for year in sorted(set(years)):
        try:
            holidays, workdays = cn_holidays.statutory_days(year)
        except cn_holidays.UnknownYearError:
            unknown.append(year)
            continue
        manual = set(
            StatutoryDay.objects.filter(date__year=year)
            .exclude(source="chinesecalendar")
            .values_list("date", flat=True)
        )
        StatutoryDay.objects.filter(date__year=year, source="chinesecalendar").delete()
        StatutoryDay.objects.bulk_create(
            [
                StatutoryDay(date=d, kind=DayKind.HOLIDAY, name=n)
                for d, n in holidays.items()
                if d not in manual
            ]
            + [
                StatutoryDay(date=d, kind=DayKind.WORKDAY, name=n)
                for d, n in workdays.items()
                if d not in manual
            ]
        )
        HolidayYear.objects.update_or_create(year=year, defaults={"source": "chinesecalendar"})
        synced.append(year)
    if synced:
        _recompute_clocks(
            list(Calendar.objects.filter(holidays=HolidayMode.CN).values_list("pk", flat=True))
        )
    return SyncResult(synced, unknown)


@transaction.atomic
def holiday_year_enter(*, year: int, source: str = "manual") -> HolidayYear:
    """Mark a year's statutory days as entered (after an admin typed them in): clocks in it
    stop being provisional and running ones are recomputed."""
    row, _ = HolidayYear.objects.update_or_create(year=year, defaults={"source": source})
    _recompute_clocks(
        list(Calendar.objects.filter(holidays=HolidayMode.CN).values_list("pk", flat=True))
    )
    return row


def _recompute_clocks(calendar_ids: list[int]) -> None:
    from kefu.sla.services import sla_recompute_for_calendars

    _ENGINE_CACHE.clear()
    sla_recompute_for_calendars(calendar_ids=calendar_ids)


def known_years() -> frozenset[int]:
    return frozenset(HolidayYear.objects.values_list("year", flat=True))


# Built engines by calendar id, with the stamp of the rows they were built from and when
# that stamp was last checked. A change made in this process clears the cache at once;
# one made by another process is seen within _RECHECK_SECONDS.
_ENGINE_CACHE: dict[int, tuple[tuple[Any, ...], float, engine.BusinessCalendar]] = {}
_CACHE_LOCK = threading.Lock()
_RECHECK_SECONDS = 10.0


def _stamp(calendar: Calendar) -> tuple[Any, ...]:
    days = StatutoryDay.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    years = HolidayYear.objects.aggregate(n=Count("id"), t=Max("entered_at"))
    exc = calendar.exceptions.aggregate(n=Count("id"), d=Max("date"))
    fresh = Calendar.objects.filter(pk=calendar.pk).values_list("updated_at", flat=True).first()
    return (fresh, days["n"], days["t"], years["n"], years["t"], exc["n"], exc["d"])


def calendar_engine(calendar: Calendar) -> engine.BusinessCalendar:
    """The pure engine value for a calendar row, with its statutory days and exceptions."""
    now = time.monotonic()
    with _CACHE_LOCK:
        cached = _ENGINE_CACHE.get(calendar.pk)
    if cached is not None and now - cached[1] < _RECHECK_SECONDS:
        return cached[2]
    stamp = _stamp(calendar)
    same = cached is not None and cached[0] == stamp
    built = cached[2] if cached is not None and same else build_engine(calendar)
    with _CACHE_LOCK:
        _ENGINE_CACHE[calendar.pk] = (stamp, now, built)
    return built


def build_engine(calendar: Calendar) -> engine.BusinessCalendar:
    weekly: dict[int, list[str]] = {
        WEEKDAYS.index(day): list(intervals) for day, intervals in calendar.weekly.items()
    }
    closed: set[date] = set()
    extra: dict[date, list[str]] = {}
    known: frozenset[int] | None = None
    if calendar.holidays == HolidayMode.CN:
        known = known_years()
        for day in StatutoryDay.objects.all():
            if day.kind == DayKind.HOLIDAY:
                closed.add(day.date)
            else:
                # A make-up working day keeps its weekday's hours, or Monday's if that
                # weekday is normally closed.
                extra[day.date] = weekly.get(day.date.weekday()) or weekly.get(0) or []
    for exc in calendar.exceptions.all():
        if exc.hours:
            extra[exc.date] = list(exc.hours)
            closed.discard(exc.date)
        else:
            closed.add(exc.date)
            extra.pop(exc.date, None)
    return engine.BusinessCalendar.from_spec(
        tz=calendar.timezone, weekly=weekly, closed=closed, extra=extra, known_years=known
    )


def day_explain(calendar: Calendar, day: date) -> dict[str, Any]:
    """Whether and when ``day`` is open, and why (weekday, holiday, make-up day, exception)."""
    weekday = WEEKDAYS[day.weekday()]
    reason = f"weekday {weekday}"
    hours: list[str] = list(calendar.weekly.get(weekday, []))
    provisional = False
    if calendar.holidays == HolidayMode.CN:
        statutory = StatutoryDay.objects.filter(date=day).first()
        if statutory is not None and statutory.kind == DayKind.HOLIDAY:
            hours, reason = [], f"statutory holiday 法定节假日 {statutory.name}".strip()
        elif statutory is not None:
            hours = list(calendar.weekly.get(weekday) or calendar.weekly.get("mon") or [])
            reason = f"make-up working day 调休上班 {statutory.name}".strip()
        provisional = day.year not in known_years()
    exc = calendar.exceptions.filter(date=day).first()
    if exc is not None:
        hours = list(exc.hours)
        reason = f"calendar exception 特殊日期 {exc.note}".strip()
    return {
        "date": day.isoformat(),
        "open": bool(hours),
        "hours": hours,
        "reason": reason,
        "provisional": provisional,
    }
