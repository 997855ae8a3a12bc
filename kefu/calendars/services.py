"""Calendars as data: YAML in, statutory days synced, and the pure engine value built from
the rows (cached per process until a row changes)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
from kefu.calendars.validation import (
    WEEKDAYS,
    date_check,
    intervals_check,
    timezone_check,
    weekly_check,
)

CHINESECALENDAR = "chinesecalendar"


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
    tz = timezone_check(data.get("timezone") or "Asia/Shanghai")
    weekly = weekly_check(data.get("weekly") or {})
    holidays = str(data.get("holidays", "cn"))
    if holidays not in HolidayMode.values:
        raise ValidationError("holidays: 应为 cn 或 none / expected 'cn' or 'none'")
    closed_raw = data.get("closed") or []
    if not isinstance(closed_raw, list):
        raise ValidationError("closed: 应为日期列表 / expected a list of dates")
    closed = [date_check(d, f"closed[{i}]") for i, d in enumerate(closed_raw)]
    open_raw = data.get("open") or {}
    if not isinstance(open_raw, dict):
        raise ValidationError("open: 应为 日期: 时间段 的映射 / expected date: intervals")
    opened = {
        date_check(d, f"open.{d}"): intervals_check(v, f"open.{d}") for d, v in open_raw.items()
    }
    return CalendarSpec(name, tz, weekly, holidays, closed, opened)


@transaction.atomic
def calendar_load(*, text: str) -> tuple[Calendar, bool]:
    """Create or update (by name) a calendar from YAML; returns it and whether it was new.
    Bad input raises ValidationError naming the field, and nothing is written.

    The caller recomputes the running SLA clocks on the calendar in the same transaction
    (``kefu.sla.services.sla_recompute_for_calendars``): this app knows nothing of clocks."""
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
    calendar_engine_cache_clear()
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
    """Years refreshed from chinesecalendar."""
    unknown: list[int]
    """Years chinesecalendar has no arrangement for: left as they are."""
    changed: list[int] = field(default_factory=list)
    """Synced years whose rows were added to, removed or corrected."""
    calendar_ids: list[int] = field(default_factory=list)
    """The calendars that follow statutory days, when any year was synced: the caller
    recomputes their running clocks."""


def statutory_years_default(today: date) -> list[int]:
    """What a sync covers unless told otherwise: every year chinesecalendar knows, this
    year and the next (so an unpublished next year is reported)."""
    return sorted({*cn_holidays.published_years(), today.year, today.year + 1})


def statutory_calendar_ids() -> list[int]:
    """The calendars whose opening follows the statutory holidays and make-up days."""
    return list(Calendar.objects.filter(holidays=HolidayMode.CN).values_list("pk", flat=True))


@transaction.atomic
def statutory_sync(*, years: list[int]) -> SyncResult:
    """Bring the statutory days of ``years`` in line with chinesecalendar, writing only
    what differs. Days an admin entered by hand (``source != 'chinesecalendar'``) are kept.
    A year the library does not know is reported in ``unknown`` and left as it is.

    The caller recomputes the running clocks of ``calendar_ids`` in the same transaction."""
    synced, unknown, changed = [], [], []
    for year in sorted(set(years)):
        try:
            holidays, workdays = cn_holidays.statutory_days(year)
        except cn_holidays.UnknownYearError:
            unknown.append(year)
            continue
        wanted = {d: (DayKind.HOLIDAY.value, n) for d, n in holidays.items()}
        wanted.update({d: (DayKind.WORKDAY.value, n) for d, n in workdays.items()})
        existing = {row.date: row for row in StatutoryDay.objects.filter(date__year=year)}
        stale = [
            row.pk
            for day, row in existing.items()
            if row.source == CHINESECALENDAR and wanted.get(day) != (row.kind, row.name)
        ]
        missing = [
            StatutoryDay(date=day, kind=kind, name=name, source=CHINESECALENDAR)
            for day, (kind, name) in sorted(wanted.items())
            if day not in existing or existing[day].pk in stale
        ]
        StatutoryDay.objects.filter(pk__in=stale).delete()
        StatutoryDay.objects.bulk_create(missing)
        _, entered = HolidayYear.objects.get_or_create(
            year=year, defaults={"source": CHINESECALENDAR}
        )
        if stale or missing or entered:
            changed.append(year)
        synced.append(year)
    if changed:
        calendar_engine_cache_clear()
    return SyncResult(synced, unknown, changed, statutory_calendar_ids() if synced else [])


def known_years() -> frozenset[int]:
    return frozenset(HolidayYear.objects.values_list("year", flat=True))


# Built engines by calendar id, with the stamp of the rows they were built from and when
# that stamp was last checked. A change made in this process clears the cache at once;
# one made by another process is seen within _RECHECK_SECONDS.
_ENGINE_CACHE: dict[tuple[int, Any], tuple[tuple[Any, ...], float, engine.BusinessCalendar]] = {}
_CACHE_LOCK = threading.Lock()
_RECHECK_SECONDS = 10.0


def _stamp(calendar: Calendar) -> tuple[Any, ...]:
    days = StatutoryDay.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    years = HolidayYear.objects.aggregate(n=Count("id"), t=Max("entered_at"))
    exc = calendar.exceptions.aggregate(n=Count("id"), d=Max("date"))
    fresh = Calendar.objects.filter(pk=calendar.pk).values_list("updated_at", flat=True).first()
    return (fresh, days["n"], days["t"], years["n"], years["t"], exc["n"], exc["d"])


def calendar_engine_cache_clear() -> None:
    """Forget every built engine: call after writing calendars, exceptions, statutory days
    or holiday years other than through this module's services (the admin does)."""
    with _CACHE_LOCK:
        _ENGINE_CACHE.clear()


def calendar_engine(calendar: Calendar) -> engine.BusinessCalendar:
    """The pure engine value for a calendar row, with its statutory days and exceptions."""
    now = time.monotonic()
    # The row's own stamp is in the key: an edited calendar (or another one given the id of
    # a deleted one) never gets the engine built for the old row.
    key = (calendar.pk, calendar.updated_at)
    with _CACHE_LOCK:
        cached = _ENGINE_CACHE.get(key)
    if cached is not None and now - cached[1] < _RECHECK_SECONDS:
        return cached[2]
    stamp = _stamp(calendar)
    same = cached is not None and cached[0] == stamp
    built = cached[2] if cached is not None and same else build_engine(calendar)
    with _CACHE_LOCK:
        _ENGINE_CACHE[key] = (stamp, now, built)
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
