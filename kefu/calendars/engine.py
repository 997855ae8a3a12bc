"""Business-time arithmetic on a calendar: pure Python and numpy, no Django.

A :class:`BusinessCalendar` is a frozen value: an IANA time zone, weekly opening hours
(several intervals a day, 0 = Monday), dates that are closed and extra dates that are open
with their own hours (an extra date wins over ``closed`` and over its weekday).

Semantics
---------
- Business time is measured in seconds of opening time. An instant is open when its
  wall-clock reading in the calendar's zone lies inside an opening interval of that local
  date; intervals are half-open, so 09:00 is open and 12:00 is closed for "09:00-12:00".
- ``add_seconds(start, s)`` returns the **earliest** instant at which ``s`` business seconds
  have elapsed since ``start``: a target that uses up the morning exactly is due at 12:00,
  not at 13:30 when the afternoon opens. A start outside opening hours counts from the next
  opening (an e-mail at 20:00 on Friday starts counting at 09:00 on Monday).
  ``add_seconds(start, 0)`` is ``start`` itself, open or not: it is the earliest instant at
  which zero business seconds have elapsed, consistent with ``elapsed(start, start) == 0``.
  ``add(start, m)`` is ``add_seconds(start, 60 * m)``. Negative amounts raise ValueError.
- ``elapsed(start, end)`` is the business time between two instants, in whole seconds
  (rounded to the nearest second when the instants carry microseconds). ``end`` before
  ``start`` raises ValueError rather than guessing a sign. For whole seconds ``s``,
  ``elapsed(start, add_seconds(start, s)) == s``.
- ``is_open(t)``; ``next_open(t)`` is ``t`` itself when open, else the next opening.
- ``is_provisional(start, end=None)``: whether a span touches a year outside
  ``known_years`` (the years whose holidays the caller knows; ``None`` means all of them). The
  engine takes closed and extra dates as plain data and never invents holidays; a caller
  that lacks a year's holiday data marks the results provisional instead of trusting them.
- Daylight saving time follows from the wall-clock rule: on a spring-forward day a local
  interval 01:00-03:00 lasts one real hour (02:00-03:00 does not exist); on a fall-back day
  the repeated hour is open on both of its occurrences, so 01:00-02:00 lasts two real hours,
  the real time from its start's first occurrence (``fold=0``) to its end's last occurrence
  (``fold=1``). An interval whose edge falls inside the repeated hour is open exactly while
  the clock shows a time inside it (00:00-01:30 on that day is 2 real hours in two pieces).
  Offset changes are assumed to be at least a day apart, as in every real zone.
- Adjacent intervals merge, so a calendar open 00:00-24:00 every day is continuous time.
- Naive datetimes raise ValueError. Returned datetimes are in the calendar's zone.

How it is fast: the opening intervals of a span of years are laid out once as sorted lists
of UTC epoch seconds with a prefix sum of business seconds; ``add_seconds`` and ``elapsed``
are two bisections each, and :meth:`BusinessCalendar.add_many` is two ``numpy.searchsorted``
calls over whole arrays. The span grows by whole years when a query falls outside it; the
layout is shared by threads and replaced as a whole, never edited in place.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Interval: TypeAlias = tuple[int, int]
"""Minutes from local midnight, ``[start, end)``, ``0 <= start < end <= 1440``."""

TimeLike: TypeAlias = str | time | int
IntervalLike: TypeAlias = str | tuple[TimeLike, TimeLike]
"""``"09:00-12:00"``, ``("09:00", "24:00")``, ``(time(9), time(12))`` or ``(540, 720)``."""

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Every real UTC offset is within ±26 hours, so an instant whose local reading falls on date D
# lies within two days of D's local midnight read as UTC.
_SLACK = 2 * DAY
_FIRST_YEAR, _LAST_YEAR = 2, 9997
_MAX_SECONDS = 1e11  # about 3,000 years of round-the-clock time
_ALWAYS_AWARE = (ZoneInfo, timezone)
_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _minute_of_day(value: TimeLike, *, end: bool) -> int:
    if isinstance(value, bool):
        raise ValueError(f"bad time {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"bad time {value!r}: whole minutes of wall-clock time only")
        minute = value.hour * 60 + value.minute
        # An end of 00:00 can only mean the midnight that ends the day.
        return 1440 if end and minute == 0 else minute
    m = _HHMM.match(value)
    if not m or int(m.group(2)) > 59:
        raise ValueError(f"bad time {value!r}: expected HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_interval(item: IntervalLike) -> Interval:
    """``"09:00-12:00"`` → ``(540, 720)``. ``24:00`` is allowed as an end; so is a pair of
    ``HH:MM`` strings, :class:`datetime.time` values (an end of 00:00 means 24:00) or minutes.
    Raises ValueError naming the bad item."""
    if isinstance(item, str):
        parts = item.split("-")
        if len(parts) != 2:
            raise ValueError(f"bad interval {item!r}: expected HH:MM-HH:MM")
        pair: tuple[TimeLike, TimeLike] = (parts[0], parts[1])
    else:
        pair = item
    try:
        start = _minute_of_day(pair[0], end=False)
        stop = _minute_of_day(pair[1], end=True)
    except ValueError as exc:
        raise ValueError(f"bad interval {item!r}: {exc}") from None
    if not 0 <= start < stop <= 1440:
        raise ValueError(f"bad interval {item!r}: start must be before end, within one day")
    return start, stop


def _day_hours(items: Iterable[IntervalLike]) -> tuple[Interval, ...]:
    """Sorted intervals of one day, overlapping or touching ones merged."""
    merged: list[list[int]] = []
    for a, b in sorted(parse_interval(i) for i in items):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


@dataclass(frozen=True, slots=True)
class _Table:
    """Opening intervals of the local years ``first..last`` as UTC epoch seconds."""

    first: int
    last: int
    safe_lo: int  # instants in [safe_lo, safe_hi) see every interval that can touch them
    safe_hi: int
    starts: list[float]
    ends: list[float]
    cum: list[float]  # business seconds before starts[i]
    cum_end: list[float]  # business seconds up to ends[i]
    total: int
    arrays: dict[str, tuple[npt.NDArray[Any], ...]]  # dtype name → starts, ends, cum, cum_end

    def position(self, epoch: float) -> float:
        """Business seconds from the start of the table up to ``epoch``."""
        i = bisect_right(self.ends, epoch)
        if i == len(self.starts):
            return self.total
        start = self.starts[i]
        return self.cum[i] + epoch - start if epoch > start else self.cum[i]


class _Layout:
    """The mutable cache behind a frozen calendar: each year's intervals and the current
    table. Readers take ``table`` once per operation; growing it swaps in a new one."""

    def __init__(self, zone: ZoneInfo, hours_on: Callable[[date], Sequence[Interval]]) -> None:
        self.zone = zone
        self.hours_on = hours_on
        self.years: dict[int, list[tuple[int, int]]] = {}
        self.table: _Table | None = None
        self.lock = threading.Lock()

    def cover(self, first: int, last: int) -> _Table:
        with self.lock:
            table = self.table
            if table is not None and table.first <= first and last <= table.last:
                return table
            if table is not None:
                first, last = min(first, table.first), max(last, table.last)
            if first < _FIRST_YEAR or last > _LAST_YEAR:
                raise ValueError(
                    f"business time is supported for years {_FIRST_YEAR + 1}–{_LAST_YEAR - 1}"
                )
            for year in range(first, last + 1):
                if year not in self.years:
                    self.years[year] = self._year_intervals(year)
            table = self._table(first, last)
            self.table = table
            return table

    def _table(self, first: int, last: int) -> _Table:
        pieces = sorted(p for y in range(first, last + 1) for p in self.years[y])
        starts: list[int] = []
        ends: list[int] = []
        for s, e in pieces:
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            cum.append(total)
            total += e - s
            cum_end.append(total)
        int_arrays = tuple(np.array(a, dtype=np.int64) for a in (starts, ends, cum, cum_end))
        float_arrays = tuple(a.astype(np.float64) for a in int_arrays)
        return _Table(
            first=first,
            last=last,
            safe_lo=_local_midnight(date(first, 1, 1)) + _SLACK,
            safe_hi=_local_midnight(date(last + 1, 1, 1)) - _SLACK,
            # Floats for the scalar path: the values are whole seconds, exact in a double,
            # and bisecting a float list with a float key is three times faster than mixed.
            starts=[float(x) for x in starts],
            ends=[float(x) for x in ends],
            cum=[float(x) for x in cum],
            cum_end=[float(x) for x in cum_end],
            total=total,
            arrays={"int64": int_arrays, "float64": float_arrays},
        )

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """UTC pieces of every opening interval of the local dates of ``year``."""
        segments = _offset_segments(
            self.zone,
            _local_midnight(date(year, 1, 1)) - 2 * _SLACK,
            _local_midnight(date(year + 1, 1, 1)) + 2 * _SLACK,
        )
        seg_starts = [s for s, _, _ in segments]
        pieces: list[tuple[int, int]] = []
        day = date(year, 1, 1)
        while day.year == year:
            hours = self.hours_on(day)
            if hours:
                midnight = _local_midnight(day)
                lo = bisect_right(seg_starts, midnight - _SLACK) - 1
                hi = bisect_left(seg_starts, midnight + DAY + _SLACK)
                nearby = segments[max(lo, 0) : hi]
                for a, b in hours:
                    wall_a, wall_b = midnight + 60 * a, midnight + 60 * b
                    for seg_start, seg_end, offset in nearby:
                        s = max(wall_a - offset, seg_start)
                        e = min(wall_b - offset, seg_end)
                        if s < e:
                            pieces.append((s, e))
            day += timedelta(days=1)
        pieces.sort()
        return pieces


def _local_midnight(day: date) -> int:
    """Local midnight of ``day`` as naive wall-clock seconds since 1970-01-01 00:00."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


def _utc_offset(zone: ZoneInfo, epoch: int) -> int:
    offset = datetime.fromtimestamp(epoch, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _offset_segments(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``(from, to, utc_offset)`` runs of constant offset covering ``[lo, hi)``, found by
    sampling daily and bisecting to the second where the offset changes."""
    segments: list[tuple[int, int, int]] = []
    seg_start, offset = lo, _utc_offset(zone, lo)
    t = lo
    while t < hi:
        nxt = min(t + DAY, hi)
        if _utc_offset(zone, nxt) != offset:
            before, after = t, nxt  # offset(before) == offset != offset(after)
            while after - before > 1:
                mid = (before + after) // 2
                if _utc_offset(zone, mid) == offset:
                    before = mid
                else:
                    after = mid
            segments.append((seg_start, after, offset))
            seg_start, offset = after, _utc_offset(zone, after)
            t = after
        else:
            t = nxt
    segments.append((seg_start, hi, offset))
    return segments


def _epoch(t: datetime) -> float:
    zone = t.tzinfo
    # ZoneInfo and timezone always have an offset; another tzinfo may answer None.
    if zone is None or (type(zone) not in _ALWAYS_AWARE and t.utcoffset() is None):
        raise ValueError(f"naive datetime {t.isoformat()}: business time needs an aware datetime")
    return t.timestamp()


def _frozen_hours(
    items: Mapping[Any, Iterable[IntervalLike]],
) -> dict[Any, tuple[Interval, ...]]:
    return {key: _day_hours(v) for key, v in items.items()}


@dataclass(frozen=True)
class BusinessCalendar:
    """A calendar value; see the module docstring for the exact semantics.

    ``weekly`` maps weekday (0 = Monday … 6 = Sunday) to opening intervals; a missing day
    is closed. ``closed`` dates are shut all day. ``extra`` dates are open with their own
    hours, whatever ``closed`` and the weekday say (an empty list shuts them). Intervals are
    ``(start, end)`` minutes from local midnight; :meth:`from_spec` also takes ``"09:00-12:00"``
    strings and :class:`datetime.time` pairs, and so does the constructor at run time.
    ``known_years``: the years whose holiday data the caller has (``None``: all)."""

    tz: str
    weekly: Mapping[int, Sequence[Interval]]
    closed: frozenset[date] = frozenset()
    extra: Mapping[date, Sequence[Interval]] = field(default_factory=dict)
    known_years: frozenset[int] | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _weekly_days: tuple[tuple[Interval, ...], ...] = field(init=False, repr=False, compare=False)
    _layout: _Layout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.tz)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        if any(not isinstance(d, int) or not 0 <= d <= 6 for d in self.weekly):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(self.weekly)}")
        weekly = _frozen_hours(self.weekly)
        extra = _frozen_hours(self.extra)
        if not any(weekly.values()) and not any(extra.values()):
            raise ValueError("a calendar needs some opening hours")
        set_ = object.__setattr__
        set_(self, "weekly", MappingProxyType({d: weekly.get(d, ()) for d in range(7)}))
        set_(self, "extra", MappingProxyType(extra))
        set_(self, "closed", frozenset(self.closed))
        if self.known_years is not None:
            set_(self, "known_years", frozenset(self.known_years))
        set_(self, "_zone", zone)
        set_(self, "_weekly_days", tuple(weekly.get(d, ()) for d in range(7)))
        set_(self, "_layout", _Layout(zone, self.hours_on))

    @classmethod
    def from_spec(
        cls,
        *,
        tz: str,
        weekly: Mapping[int, Iterable[IntervalLike]],
        closed: Iterable[date] = (),
        extra: Mapping[date, Iterable[IntervalLike]] | None = None,
        known_years: Iterable[int] | None = None,
    ) -> BusinessCalendar:
        """Build from readable parts: ``weekly={0: ["09:00-12:00", "13:30-18:00"], …}``."""
        return cls(
            tz=tz,
            weekly=_frozen_hours(weekly),
            closed=frozenset(closed),
            extra=_frozen_hours(extra or {}),
            known_years=None if known_years is None else frozenset(known_years),
        )

    def __hash__(self) -> int:
        return hash(
            (
                self.tz,
                tuple(self.weekly.items()),
                self.closed,
                frozenset(self.extra.items()),
                self.known_years,
            )
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (self.tz, dict(self.weekly), self.closed, dict(self.extra), self.known_years),
        )

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def hours_on(self, day: date) -> Sequence[Interval]:
        """Opening intervals of a local date: its extra hours, else none when closed, else
        its weekday's."""
        hours = self.extra.get(day)
        if hours is not None:
            return hours
        if day in self.closed:
            return ()
        return self._weekly_days[day.weekday()]

    def _table_for(self, lo: float, hi: float) -> _Table:
        """A table whose safe range holds ``lo`` and ``hi`` (epoch seconds)."""
        table = self._layout.table
        if table is not None and table.safe_lo <= lo and hi < table.safe_hi:
            return table
        return self._layout.cover(self._year(lo) - 1, self._year(hi) + 2)

    def _year(self, epoch: float) -> int:
        try:
            return datetime.fromtimestamp(epoch, self._zone).year
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"instant {epoch!r} is outside the supported range") from exc

    def _grow(self, table: _Table) -> _Table:
        """The table extended forward, after an answer fell beyond it."""
        if not any(self._weekly_days):
            last_extra = max((d.year for d, h in self.extra.items() if h), default=0)
            if table.last > last_extra:
                raise ValueError("the calendar has no opening hours after its last extra date")
        if table.last >= _LAST_YEAR:
            raise ValueError(f"the answer lies beyond the year {_LAST_YEAR}")
        span = table.last - table.first + 1
        return self._layout.cover(table.first, min(table.last + span, _LAST_YEAR))

    def add_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant at which ``seconds`` business seconds have elapsed since
        ``start`` (aware), in the calendar's zone."""
        t = _epoch(start)
        if not 0 < seconds < _MAX_SECONDS:
            if seconds == 0:
                return start.astimezone(self._zone)
            raise ValueError(f"business time to add must be >= 0 and finite, got {seconds!r}")
        table = self._layout.table
        if table is None or not table.safe_lo <= t < table.safe_hi:
            table = self._table_for(t, t)
        # Inlined position() and the two bisections: this is the hot path of every clock.
        while True:
            starts, cum = table.starts, table.cum
            i = bisect_right(table.ends, t)
            if i < len(starts):
                first = starts[i]
                target = cum[i] + (t - first if t > first else 0) + seconds
            else:
                target = table.total + seconds
            j = bisect_left(table.cum_end, target)
            if j < len(starts):
                due = starts[j] + (target - cum[j])
                if due < table.safe_hi:
                    return datetime.fromtimestamp(due if due > t else t, self._zone)
            table = self._grow(table)

    def add(self, start: datetime, minutes: float) -> datetime:
        """``add_seconds(start, 60 * minutes)``."""
        return self.add_seconds(start, minutes * 60)

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds from ``start`` to ``end`` (aware, ``end >= start``, else
        ValueError), rounded to the nearest whole second."""
        a, b = _epoch(start), _epoch(end)
        if b < a:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        table = self._table_for(a, b)
        return round(table.position(b) - table.position(a))

    def is_open(self, t: datetime) -> bool:
        epoch = _epoch(t)
        table = self._table_for(epoch, epoch)
        i = bisect_right(table.starts, epoch) - 1
        return i >= 0 and epoch < table.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself when open, else the start of the next opening; in the calendar's
        zone."""
        epoch = _epoch(t)
        table = self._table_for(epoch, epoch)
        while True:
            i = bisect_right(table.ends, epoch)
            if i < len(table.starts) and table.starts[i] < table.safe_hi:
                if table.starts[i] <= epoch:
                    return t.astimezone(self._zone)
                return datetime.fromtimestamp(table.starts[i], self._zone)
            table = self._grow(table)

    def is_provisional(self, start: datetime, end: datetime | None = None) -> bool:
        """Whether ``start`` (or the span to ``end``) touches a local year outside
        ``known_years``."""
        return bool(self.unknown_years(start, end))

    def unknown_years(self, start: datetime, end: datetime | None = None) -> tuple[int, ...]:
        """The local years of ``start`` (or of the span to ``end``) outside ``known_years``,
        in order; empty when ``known_years`` is ``None``."""
        _epoch(start)
        if end is not None:
            _epoch(end)
        if self.known_years is None:
            return ()
        first = start.astimezone(self._zone).year
        last = first if end is None else end.astimezone(self._zone).year
        return tuple(y for y in range(first, last + 1) if y not in self.known_years)

    def add_many(
        self, starts: npt.ArrayLike, seconds: npt.ArrayLike
    ) -> npt.NDArray[np.int64] | npt.NDArray[np.float64]:
        """Due instants (epoch seconds) for arrays of starts (epoch seconds) and business
        seconds, element by element the same as :meth:`add_seconds` (which then rounds to
        the microsecond). Integer inputs give an ``int64`` array, exact; others ``float64``.
        The two arrays broadcast against each other."""
        t, s = self._batch_inputs(starts, seconds)
        if s.size and (s.min() < 0 or s.max() >= _MAX_SECONDS):
            raise ValueError("business time to add must be >= 0 and finite")
        # Zero business time is the start itself, wherever it lies (as in add_seconds): only
        # the moving elements need the table to reach them.
        moving = s > 0
        if not moving.any():
            return t.copy()
        # A view when every element moves (the usual case), else a mask.
        sel: slice | npt.NDArray[np.bool_] = slice(None) if moving.all() else moving
        kind = t.dtype.name
        table = self._table_for(float(t.min()), float(t.max()))
        while True:
            st, en, cum, cum_end = table.arrays[kind]
            n = st.size
            i = np.searchsorted(en, t, side="right")
            if n == 0 or int(i[sel].max()) >= n:
                table = self._grow(table)
                continue
            i = np.minimum(i, n - 1)
            target = cum[i] + np.maximum(t - st[i], 0) + s
            j = np.searchsorted(cum_end, target, side="left")
            if int(j[sel].max()) < n:
                j = np.minimum(j, n - 1)  # a still element may point past the end
                due = st[j] + (target - cum[j])
                if float(due[sel].max()) < table.safe_hi:
                    result: npt.NDArray[Any] = np.where(moving, np.maximum(due, t), t)
                    return result
            table = self._grow(table)

    def elapsed_many(self, starts: npt.ArrayLike, ends: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Business seconds between arrays of epoch instants, as :meth:`elapsed`."""
        a, b = self._batch_inputs(starts, ends)
        if np.any(b < a):
            raise ValueError("an end is before its start")
        if a.size == 0:
            return np.zeros(a.shape, dtype=np.int64)
        table = self._table_for(float(a.min()), float(b.max()))
        st, en, cum, _ = table.arrays[a.dtype.name]
        if st.size == 0:
            return np.zeros(a.shape, dtype=np.int64)

        def position(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
            i = np.searchsorted(en, x, side="right")
            inside = i < st.size
            k = np.minimum(i, st.size - 1)
            pos: npt.NDArray[Any] = np.where(inside, cum[k] + np.maximum(x - st[k], 0), table.total)
            return pos

        seconds: npt.NDArray[np.int64] = np.rint(position(b) - position(a)).astype(np.int64)
        return seconds

    @staticmethod
    def _batch_inputs(
        first: npt.ArrayLike, second: npt.ArrayLike
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        x, y = np.asarray(first), np.asarray(second)
        exact = x.dtype.kind in "iu" and y.dtype.kind in "iu"
        dtype = np.int64 if exact else np.float64
        x, y = np.broadcast_arrays(x.astype(dtype), y.astype(dtype))
        if not exact and not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("batch inputs must be finite numbers")
        return x, y


def _rebuild(
    tz: str,
    weekly: Mapping[int, Sequence[Interval]],
    closed: frozenset[date],
    extra: Mapping[date, Sequence[Interval]],
    known_years: frozenset[int] | None,
) -> BusinessCalendar:
    return BusinessCalendar.from_spec(
        tz=tz, weekly=weekly, closed=closed, extra=extra, known_years=known_years
    )
