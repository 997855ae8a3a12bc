"""A slow, obviously correct reading of a :class:`~kefu.calendars.engine.BusinessCalendar`,
used to check the engine in tests and in ``bench/sla_engine.py``. Pure Python, no Django.

It never looks at the engine's interval table. It reads the calendar's spec (zone, weekly
hours, closed and extra dates) and asks, one instant at a time, what a wall clock in the
calendar's zone shows and whether that reading lies inside the opening hours of its local
date. It walks in steps of one second, or one minute from a whole UTC minute: every opening
edge is a whole local minute and every UTC offset in use is a whole number of minutes
(checked as it walks), so a whole UTC minute is either open throughout or closed throughout.
Instants must be whole seconds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from kefu.calendars.engine import BusinessCalendar

MAX_STEPS = 5_000_000  # about nine years of minutes: a walk that long has lost its way


def hours_of(cal: BusinessCalendar, day: date) -> Sequence[tuple[int, int]]:
    """Opening intervals (minutes from local midnight) of a local date: an extra date's own
    hours, else nothing on a closed date, else the weekday's hours."""
    if day in cal.extra:
        return cal.extra[day]
    if day in cal.closed:
        return ()
    return cal.weekly.get(day.weekday(), ())


def _open_at(cal: BusinessCalendar, zone: ZoneInfo, epoch: int) -> bool:
    local = datetime.fromtimestamp(epoch, zone)
    offset = local.utcoffset()
    assert offset is not None and offset.total_seconds() % 60 == 0, "whole-minute offsets only"
    second_of_day = local.hour * 3600 + local.minute * 60 + local.second
    return any(a * 60 <= second_of_day < b * 60 for a, b in hours_of(cal, local.date()))


def _whole_seconds(t: datetime) -> int:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("naive datetime")
    if t.microsecond:
        raise ValueError("the oracle reads whole seconds only")
    return round(t.timestamp())


def is_open(cal: BusinessCalendar, t: datetime) -> bool:
    return _open_at(cal, ZoneInfo(cal.tz), _whole_seconds(t))


def add_seconds(cal: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """The first instant by which ``seconds`` open seconds have passed since ``start``."""
    zone = ZoneInfo(cal.tz)
    t = _whole_seconds(start)
    left = seconds
    for _ in range(MAX_STEPS):
        if left <= 0:
            return datetime.fromtimestamp(t, zone)
        step = 60 if t % 60 == 0 and left >= 60 else 1
        if _open_at(cal, zone, t):
            left -= step
        t += step
    raise RuntimeError("the oracle walked too far")


def add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return add_seconds(cal, start, 60 * minutes)


def elapsed(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Open seconds in ``[start, end)``."""
    zone = ZoneInfo(cal.tz)
    t, stop = _whole_seconds(start), _whole_seconds(end)
    total = 0
    while t < stop:
        step = 60 if t % 60 == 0 and t + 60 <= stop else 1
        if _open_at(cal, zone, t):
            total += step
        t += step
    return total


def next_open(cal: BusinessCalendar, t: datetime) -> datetime:
    """``t`` when open, else the first open second after it."""
    zone = ZoneInfo(cal.tz)
    epoch = _whole_seconds(t)
    for _ in range(MAX_STEPS):
        if _open_at(cal, zone, epoch):
            return datetime.fromtimestamp(epoch, zone)
        epoch += 60 if epoch % 60 == 0 else 1
    raise RuntimeError("the oracle walked too far")
