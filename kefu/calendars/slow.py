"""A slow, obviously correct reading of a calendar, used to check the engine (tests and
bench): it looks at one wall-clock minute at a time and asks whether that minute is inside
the day's opening hours. Whole-minute instants only. Pure Python, no Django."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kefu.calendars.engine import BusinessCalendar

MINUTE = timedelta(minutes=1)


def minute_is_open(cal: BusinessCalendar, t: datetime) -> bool:
    local = t.astimezone(ZoneInfo(cal.tz))
    of_day = local.hour * 60 + local.minute
    return any(a <= of_day < b for a, b in cal.hours_on(local.date()))


def slow_add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    t = start
    left = minutes
    while left > 0:
        if minute_is_open(cal, t):
            left -= 1
        t += MINUTE
    return t


def slow_elapsed_minutes(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    n = 0
    t = start
    while t < end:
        n += minute_is_open(cal, t)
        t += MINUTE
    return n


def slow_next_open(cal: BusinessCalendar, t: datetime) -> datetime:
    while not minute_is_open(cal, t):
        t += MINUTE
    return t
