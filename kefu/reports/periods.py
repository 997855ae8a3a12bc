from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """A half-open span ``[start, end)`` of aware instants, in a client's time zone."""

    start: datetime
    end: datetime
    label: str


def month(text: str, tz: str) -> Period:
    """``"2026-10"`` in zone ``tz`` → October 1 00:00 to November 1 00:00 local time."""
    try:
        year, mon = (int(p) for p in text.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    zone = ZoneInfo(tz)
    return Period(
        datetime(first.year, first.month, 1, tzinfo=zone),
        datetime(nxt.year, nxt.month, 1, tzinfo=zone),
        f"{year:04d}-{mon:02d}",
    )
