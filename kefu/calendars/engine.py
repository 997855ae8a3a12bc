"""Business-time arithmetic on a calendar. Pure Python (and numpy for the batch form); no
Django.

Semantics
---------
- Business time is measured in seconds of opening time.
- ``add_seconds(start, s)`` returns the **earliest** instant at which ``s`` seconds of
  opening time have elapsed since ``start``. A target that uses up the morning exactly is due
  at 12:00, not at 13:30 when the afternoon opens. ``s == 0`` returns ``start`` itself.
- A start outside opening hours counts from the next opening (an email at 20:00 Friday starts
  counting on Monday at 09:00).
- ``elapsed(a, b)`` is the opening time between two instants (``b >= a``, else ValueError);
  ``elapsed(a, add_seconds(a, s)) == s``.
- Opening intervals are wall-clock times in the calendar's IANA zone, turned into real
  instants day by day, so DST is handled: on a spring-forward day 01:00–03:00 lasts one real
  hour; on a fall-back day a wall time that occurs twice is read as its first occurrence
  (``fold=0``) and an interval lasts the real time between its two instants. Adjacent
  intervals merge, so a 7×24 calendar is continuous time.
- Naive datetimes are refused (ValueError). Results are in the calendar's zone.

How it is fast: the opening intervals of a span of years are laid out once as sorted arrays
of epoch seconds with a prefix sum of their lengths; ``add_seconds`` and ``elapsed`` are two
bisections each, and the batch form is two ``numpy.searchsorted`` calls over whole arrays.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Interval = tuple[int, int]  # minutes from local midnight, end exclusive, end <= 1440
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_interval(text: str) -> Interval:
    """``"09:00-12:00"`` → ``(540, 720)``; ``24:00`` is allowed as an end."""
    m = _SPAN.match(text.strip())
    if not m:
        raise ValueError(f"bad interval {text!r}: expected HH:MM-HH:MM")
    start = int(m.group(1)) * 60 + int(m.group(2))
    end = int(m.group(3)) * 60 + int(m.group(4))
    if not (0 <= start < end <= 1440) or int(m.group(2)) > 59 or int(m.group(4)) > 59:
        raise ValueError(f"bad interval {text!r}: start must be before end, within a day")
    return start, end


def _intervals(items: Iterable[str | Interval]) -> tuple[Interval, ...]:
    out = sorted(parse_interval(i) if isinstance(i, str) else (int(i[0]), int(i[1]))
                 for i in items)
    return tuple(out)


@dataclass
class BusinessCalendar:
    """A calendar value: zone, weekly hours (0 = Monday), closed dates and extra open dates
    (with their own hours; they override ``closed`` and the weekday). ``known_years``, when
    given, lists the years whose holidays are known; instants outside them are provisional."""

    tz: str
    weekly: Mapping[int, tuple[Interval, ...]]
    closed: frozenset[date] = frozenset()
    extra: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    known_years: frozenset[int] | None = None

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.tz)
        self._first_year = 0
        self._last_year = -1
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum: list[float] = []
        self._cum_end: list[float] = []
        self._np: tuple[npt.NDArray[np.float64], ...] | None = None
        self._lo = self._hi = 0.0
        if not any(self.weekly.get(d) for d in range(7)) and not self.extra:
            raise ValueError("a calendar needs opening hours on at least one weekday")

    @classmethod
    def from_spec(
        cls,
        *,
        tz: str,
        weekly: Mapping[int, Iterable[str | Interval]],
        closed: Iterable[date] = (),
        extra: Mapping[date, Iterable[str | Interval]] | None = None,
        known_years: Iterable[int] | None = None,
    ) -> BusinessCalendar:
        return cls(
            tz=tz,
            weekly={d: _intervals(v) for d, v in weekly.items()},
            closed=frozenset(closed),
            extra={d: _intervals(v) for d, v in (extra or {}).items()},
            known_years=None if known_years is None else frozenset(known_years),
        )

    # -- layout -----------------------------------------------------------------------

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.extra:
            return tuple(self.extra[day])
        if day in self.closed:
            return ()
        return tuple(self.weekly.get(day.weekday(), ()))

    def _instant(self, day: date, minute: int) -> float:
        if minute >= 1440:
            day, minute = day + timedelta(days=1), minute - 1440
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._zone)
        return local.timestamp()

    def _build(self, first_year: int, last_year: int) -> None:
        starts: list[float] = []
        ends: list[float] = []
        day = date(first_year, 1, 1)
        stop = date(last_year + 1, 1, 1)
        while day < stop:
            for a, b in self.hours_on(day):
                s, e = self._instant(day, a), self._instant(day, b)
                if e <= s:
                    continue
                if ends and s <= ends[-1]:
                    ends[-1] = max(ends[-1], e)
                else:
                    starts.append(s)
                    ends.append(e)
            day += timedelta(days=1)
        cum = [0.0] * len(starts)
        total = 0.0
        for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
            cum[i] = total
            total += e - s
        self._starts, self._ends, self._cum = starts, ends, cum
        self._cum_end = [c + (e - s) for c, s, e in zip(cum, starts, ends, strict=True)]
        self._first_year, self._last_year = first_year, last_year
        # Instants covered by the layout, so a query checks its range with two comparisons.
        self._lo = datetime(first_year, 1, 1, tzinfo=self._zone).timestamp()
        self._hi = datetime(last_year + 1, 1, 1, tzinfo=self._zone).timestamp()
        self._np = None

    def _cover(self, epoch: float, ahead_years: int = 2) -> None:
        if self._lo <= epoch < self._hi - ahead_years * 366 * 86400:
            return
        year = datetime.fromtimestamp(epoch, self._zone).year
        first = year - 1 if self._last_year < self._first_year else min(self._first_year, year - 1)
        last = max(self._last_year, year + ahead_years)
        if first < self._first_year or last > self._last_year or not self._starts:
            self._build(first, last)

    def _arrays(self) -> tuple[npt.NDArray[np.float64], ...]:
        if self._np is None:
            self._np = tuple(
                np.asarray(a, dtype=np.float64)
                for a in (self._starts, self._ends, self._cum, self._cum_end)
            )
        assert self._np is not None
        return self._np

    # -- scalar operations --------------------------------------------------------------

    def _epoch(self, t: datetime) -> float:
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError("naive datetime: business time needs an aware datetime")
        return t.timestamp()

    def _position(self, epoch: float) -> float:
        """Business seconds from the start of the layout up to ``epoch``."""
        i = bisect_right(self._ends, epoch)
        if i >= len(self._starts):
            return self._cum_end[-1] if self._cum_end else 0.0
        return self._cum[i] + max(0.0, epoch - self._starts[i])

    def add_seconds(self, start: datetime, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("business time to add must be >= 0")
        t = self._epoch(start)
        if seconds == 0:
            return start.astimezone(self._zone)
        self._cover(t)
        while True:
            target = self._position(t) + seconds
            j = bisect_left(self._cum_end, target)
            if j < len(self._starts):
                due = self._starts[j] + (target - self._cum[j])
                return datetime.fromtimestamp(due, self._zone)
            self._build(self._first_year, self._last_year + 5)
            if self._last_year - self._first_year > 400:
                raise ValueError("no opening time within 400 years")

    def add(self, start: datetime, business_minutes: float) -> datetime:
        return self.add_seconds(start, business_minutes * 60)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds between ``start`` and ``end`` (rounded to whole seconds)."""
        a, b = self._epoch(start), self._epoch(end)
        if b < a:
            raise ValueError("end is before start")
        self._cover(a, ahead_years=0)
        self._cover(b, ahead_years=0)
        return round(self._position(b) - self._position(a))

    def is_open(self, t: datetime) -> bool:
        epoch = self._epoch(t)
        self._cover(epoch, ahead_years=0)
        i = bisect_right(self._starts, epoch) - 1
        return i >= 0 and epoch < self._ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself when open, else the start of the next opening."""
        if self.is_open(t):
            return t.astimezone(self._zone)
        epoch = self._epoch(t)
        while True:
            i = bisect_right(self._ends, epoch)
            if i < len(self._starts):
                return datetime.fromtimestamp(self._starts[i], self._zone)
            self._build(self._first_year, self._last_year + 5)

    def is_provisional(self, start: datetime, end: datetime) -> bool:
        """Whether the span touches a year whose holidays are not known."""
        if self.known_years is None:
            return False
        first = start.astimezone(self._zone).year
        last = end.astimezone(self._zone).year
        return any(y not in self.known_years for y in range(first, last + 1))

    # -- batch form -----------------------------------------------------------------------

    def add_many(
        self, starts: npt.ArrayLike, seconds: npt.ArrayLike
    ) -> npt.NDArray[np.float64]:
        """Due instants (epoch seconds) for arrays of start instants (epoch seconds) and
        business seconds; the same answers as :meth:`add_seconds`, element by element."""
        t = np.asarray(starts, dtype=np.float64)
        s = np.asarray(seconds, dtype=np.float64)
        if t.size == 0:
            return t.copy()
        if np.any(s < 0):
            raise ValueError("business time to add must be >= 0")
        self._cover(float(t.min()), ahead_years=0)
        self._cover(float(t.max()))
        while True:
            st, en, cum, cum_end = self._arrays()
            i = np.searchsorted(en, t, side="right")
            if i.max() >= st.size:
                self._build(self._first_year, self._last_year + 5)
                continue
            # Business position of each start (0 inside a closed stretch), plus the budget.
            target = cum[i] + np.maximum(t - st[i], 0.0) + s
            j = np.searchsorted(cum_end, target, side="left")
            if j.max() >= st.size:
                self._build(self._first_year, self._last_year + 5)
                continue
            due = st[j] + (target - cum[j])
            zero = s == 0
            return np.where(zero, t, due) if zero.any() else due
