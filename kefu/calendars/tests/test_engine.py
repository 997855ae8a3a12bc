"""The engine against the slow minute-by-minute reading (kefu/calendars/slow.py), on random
instants across 2024–2026: lunch breaks, statutory holidays, make-up Saturdays, Sundays,
the calendar's own exceptions, and a DST zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.calendars import cn_holidays
from kefu.calendars.engine import BusinessCalendar
from kefu.calendars.slow import minute_is_open, slow_add, slow_elapsed_minutes, slow_next_open

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DAY = ["09:00-12:00", "13:30-18:00"]


def cn_standard() -> BusinessCalendar:
    closed: set[date] = {date(2026, 12, 31)}
    extra: dict[date, list[str]] = {date(2026, 12, 26): ["09:00-12:00"]}
    for year in (2024, 2025, 2026):
        holidays, workdays = cn_holidays.statutory_days(year)
        closed |= set(holidays)
        extra.update({d: DAY for d in workdays})
    extra[date(2026, 12, 26)] = ["09:00-12:00"]
    return BusinessCalendar.from_spec(
        tz="Asia/Shanghai",
        weekly={d: DAY for d in range(5)},
        closed=closed,
        extra=extra,
        known_years={2024, 2025, 2026},
    )


CN = cn_standard()
NEW_YORK = BusinessCalendar.from_spec(
    tz="America/New_York", weekly={d: ["09:00-17:00"] for d in range(5)}
)
ALWAYS = BusinessCalendar.from_spec(
    tz="Asia/Shanghai", weekly={d: ["00:00-24:00"] for d in range(7)}
)

minutes_2024_2026 = st.integers(0, (3 * 366 - 10) * 24 * 60)


def sh_minute(offset: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=SH) + timedelta(minutes=offset)


@settings(max_examples=150, deadline=None)
@given(minutes_2024_2026, st.integers(0, 3000))
def test_add_agrees_with_the_slow_reading(offset: int, minutes: int) -> None:
    start = sh_minute(offset)
    assert CN.add(start, minutes) == slow_add(CN, start, minutes)


@settings(max_examples=150, deadline=None)
@given(minutes_2024_2026, st.integers(0, 5 * 24 * 60))
def test_elapsed_agrees_with_the_slow_reading(offset: int, span: int) -> None:
    start = sh_minute(offset)
    end = start + timedelta(minutes=span)
    assert CN.elapsed(start, end) == 60 * slow_elapsed_minutes(CN, start, end)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 3 * 365 * 86400), st.integers(0, 20 * 86400))
def test_elapsed_inverts_add_to_the_second(offset: int, seconds: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=SH) + timedelta(seconds=offset)
    assert CN.elapsed(start, CN.add_seconds(start, seconds)) == seconds


@settings(max_examples=200, deadline=None)
@given(minutes_2024_2026)
def test_is_open_and_next_open(offset: int) -> None:
    t = sh_minute(offset)
    assert CN.is_open(t) == minute_is_open(CN, t)
    assert CN.next_open(t) == slow_next_open(CN, t)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 365 * 86400), st.integers(0, 10 * 86400)),
        min_size=1,
        max_size=50,
    )
)
def test_batch_form_agrees_with_scalar(cases: list[tuple[int, int]]) -> None:
    base = datetime(2024, 1, 1, tzinfo=SH).timestamp()
    starts = np.array([base + s for s, _ in cases], dtype=np.float64)
    seconds = np.array([n for _, n in cases], dtype=np.float64)
    batch = CN.add_many(starts, seconds)
    for (s, n), due in zip(cases, batch, strict=True):
        start = datetime.fromtimestamp(base + s, SH)
        assert due == CN.add_seconds(start, n).timestamp()


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 80 * 24 * 60), st.integers(0, 2000), st.sampled_from([2, 9]))
def test_new_york_across_both_dst_transitions(offset: int, minutes: int, month: int) -> None:
    # Starts from late February and late October, so runs cross 8 March and 1 November.
    start = datetime(2026, month + 0, 20, tzinfo=NY) + timedelta(minutes=offset % (30 * 1440))
    assert NEW_YORK.add(start, minutes) == slow_add(NEW_YORK, start, minutes)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # An email at 20:00 Friday counts from Monday 09:00: 3 h before lunch, 1 h after.
        (datetime(2026, 11, 20, 20, 0, tzinfo=SH), 240, datetime(2026, 11, 23, 14, 30, tzinfo=SH)),
        # A target that uses up the morning exactly is due at 12:00, not 13:30.
        (datetime(2026, 11, 23, 9, 0, tzinfo=SH), 180, datetime(2026, 11, 23, 12, 0, tzinfo=SH)),
        # Inside the lunch break: counts from 13:30.
        (datetime(2026, 11, 23, 12, 40, tzinfo=SH), 30, datetime(2026, 11, 23, 14, 0, tzinfo=SH)),
        # Spring Festival 2026: Friday 13 Feb 17:00 + 4 h → the make-up Saturday 14 Feb, then
        # closed 15–23 Feb (holiday); Tuesday 24 Feb is the next opening.
        (datetime(2026, 2, 13, 17, 0, tzinfo=SH), 240, datetime(2026, 2, 14, 12, 0, tzinfo=SH)),
        (datetime(2026, 2, 14, 17, 0, tzinfo=SH), 120, datetime(2026, 2, 24, 10, 0, tzinfo=SH)),
        # The calendar's own days: 31 Dec 2026 closed, Saturday 26 Dec open in the morning.
        (datetime(2026, 12, 25, 17, 30, tzinfo=SH), 60, datetime(2026, 12, 26, 9, 30, tzinfo=SH)),
        (datetime(2026, 12, 30, 17, 0, tzinfo=SH), 120, datetime(2027, 1, 1, 10, 0, tzinfo=SH)),
    ],
)
def test_named_cases(start: datetime, minutes: int, due: datetime) -> None:
    assert CN.add(start, minutes) == due


def test_always_open_calendar_is_continuous_time() -> None:
    start = datetime(2026, 2, 14, 23, 30, tzinfo=SH)
    assert ALWAYS.add(start, 120) == start + timedelta(hours=2)
    assert ALWAYS.elapsed(start, start + timedelta(days=3)) == 3 * 86400


def test_unknown_year_is_an_error_that_names_it() -> None:
    with pytest.raises(cn_holidays.UnknownYearError, match="2027"):
        cn_holidays.statutory_days(2027)
    assert CN.is_provisional(datetime(2026, 12, 30, tzinfo=SH), datetime(2027, 1, 4, tzinfo=SH))
    assert not CN.is_provisional(datetime(2026, 3, 2, tzinfo=SH), datetime(2026, 3, 9, tzinfo=SH))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CN.add(datetime(2026, 11, 23, 9, 0), 10)
