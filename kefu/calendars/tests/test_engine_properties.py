"""The engine against the slow wall-clock reading in kefu/calendars/oracle.py, on random
instants across 2024–2026: inside, at the edge of and outside opening hours, lunch breaks,
statutory holidays, make-up Saturdays, Sundays, the calendar's own exceptions, and New York
hours that straddle both DST changes. Instants are compared as timestamps, because aware
datetimes in a repeated hour do not compare as instants (PEP 495)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.calendars import cn_holidays, oracle
from kefu.calendars.engine import BusinessCalendar
from kefu.calendars.tests.test_engine import CN_HOURS, CN_YEARS, always_open


def _cn_with_exceptions() -> BusinessCalendar:
    closed: set[date] = {date(2025, 12, 31), date(2026, 7, 1)}
    extra: dict[date, list[str]] = {
        date(2026, 12, 26): ["09:00-12:00"],  # a Saturday morning
        date(2025, 6, 8): ["10:00-10:07", "23:59-24:00"],  # an odd Sunday
    }
    for year in CN_YEARS:
        holidays, workdays = cn_holidays.statutory_days(year)
        closed |= holidays.keys()
        extra.update({d: CN_HOURS for d in workdays})
    return BusinessCalendar.from_spec(
        tz="Asia/Shanghai",
        weekly={d: CN_HOURS for d in range(5)},
        closed=closed,
        extra=extra,
        known_years=CN_YEARS,
    )


CN = _cn_with_exceptions()
NY = BusinessCalendar.from_spec(
    tz="America/New_York",
    weekly={
        **{d: ["09:00-17:00"] for d in range(5)},
        5: ["22:00-24:00"],
        # 8 March and 1 November 2026 are Sundays: these hours sit in the missing and the
        # repeated hour, and 00:00 continues Saturday's 22:00-24:00.
        6: ["00:00-00:30", "01:15-01:45", "02:10-02:40", "05:00-06:00"],
    },
    closed={date(2026, 7, 3)},
    extra={date(2026, 11, 1): ["00:50-02:20", "05:00-06:00"]},
)
NY_ALWAYS = always_open("America/New_York")
CALENDARS = {"cn": CN, "ny": NY}

SPECIAL_DAYS = sorted(
    {
        *(date(2026, 2, d) for d in range(12, 29)),  # Spring Festival and its make-up days
        date(2026, 3, 2),
        date(2024, 2, 4),
        date(2024, 2, 18),
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 9, 20),
        date(2026, 10, 10),
        date(2025, 12, 31),
        date(2026, 12, 26),
        date(2025, 6, 8),
        *(date(2024, 3, d) for d in range(8, 12)),  # New York's DST days and neighbours
        *(date(2024, 11, d) for d in range(1, 5)),
        *(date(2025, 3, d) for d in range(8, 11)),
        *(date(2025, 11, d) for d in range(1, 4)),
        *(date(2026, 3, d) for d in range(6, 10)),
        *(date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)),
    }
)
EDGES = [0, 30, 50, 75, 105, 130, 140, 160, 300, 360, 540, 600, 607, 720, 810, 1020, 1080, 1320]


@st.composite
def instants(draw: st.DrawFn, cal: BusinessCalendar) -> datetime:
    """Whole-second instants: anywhere in 2024–2026, or within a couple of minutes of an
    opening edge on an ordinary or a special day."""
    zone = ZoneInfo(cal.tz)
    base = datetime(2024, 1, 1, tzinfo=zone)
    kind = draw(st.sampled_from(["anywhere", "edge", "special"]))
    if kind == "anywhere":
        return base + timedelta(seconds=draw(st.integers(0, 1080 * 86400)))
    if kind == "edge":
        day = draw(st.dates(date(2024, 1, 1), date(2026, 12, 20)))
    else:
        day = draw(st.sampled_from(SPECIAL_DAYS))
    minute = draw(st.sampled_from(EDGES))
    delta = draw(st.sampled_from([0, 0, 0, -1, 1, -60, 60, draw(st.integers(-150, 150))]))
    # Wall-clock arithmetic on purpose: it may land in New York's missing hour, which an
    # aware datetime still reads as an instant (the earlier offset).
    local = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    local += timedelta(minutes=minute, seconds=delta)
    # Normalise to a real instant, so both sides read the same one.
    return datetime.fromtimestamp(round(local.timestamp()), zone)


business_seconds = st.one_of(
    st.integers(0, 3 * 450 * 60),
    st.sampled_from([0, 1, 59, 60, 3600, 3 * 3600, 450 * 60, 7 * 3600]),
    st.integers(0, 3 * 450).map(lambda m: m * 60),
)


def calendar_and_instant() -> st.SearchStrategy[tuple[str, datetime]]:
    return st.sampled_from(sorted(CALENDARS)).flatmap(
        lambda name: st.tuples(st.just(name), instants(CALENDARS[name]))
    )


@settings(max_examples=250, deadline=None)
@given(calendar_and_instant(), business_seconds)
def test_add_agrees_with_the_oracle(case: tuple[str, datetime], seconds: int) -> None:
    name, start = case
    cal = CALENDARS[name]
    due = cal.add_seconds(start, seconds)
    assert due.timestamp() == oracle.add_seconds(cal, start, seconds).timestamp()
    assert due.tzinfo == ZoneInfo(cal.tz)


@settings(max_examples=250, deadline=None)
@given(calendar_and_instant(), st.integers(0, 4 * 86400))
def test_elapsed_agrees_with_the_oracle(case: tuple[str, datetime], span: int) -> None:
    name, start = case
    cal = CALENDARS[name]
    end = start + timedelta(seconds=span)
    assert cal.elapsed(start, end) == oracle.elapsed(cal, start, end)


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant())
def test_is_open_and_next_open_agree_with_the_oracle(case: tuple[str, datetime]) -> None:
    name, t = case
    cal = CALENDARS[name]
    assert cal.is_open(t) == oracle.is_open(cal, t)
    assert cal.next_open(t).timestamp() == oracle.next_open(cal, t).timestamp()


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant(), st.integers(0, 30 * 86400))
def test_elapsed_inverts_add(case: tuple[str, datetime], seconds: int) -> None:
    name, start = case
    cal = CALENDARS[name]
    due = cal.add_seconds(start, seconds)
    assert cal.elapsed(start, due) == seconds
    if seconds:
        # Earliest: a second before the due time the budget is not yet used up.
        assert cal.elapsed(start, max(start, due - timedelta(seconds=1))) < seconds


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant(), st.integers(0, 9 * 86400), st.integers(0, 9 * 86400))
def test_elapsed_adds_up(case: tuple[str, datetime], first: int, second: int) -> None:
    name, a = case
    cal = CALENDARS[name]
    b = a + timedelta(seconds=first)
    c = b + timedelta(seconds=second)
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)


@settings(max_examples=200, deadline=None)
@given(instants(NY_ALWAYS), st.integers(0, 10 * 86400))
def test_seven_by_twenty_four_is_real_time_across_dst(start: datetime, seconds: int) -> None:
    due = NY_ALWAYS.add_seconds(start, seconds)
    assert due.timestamp() == start.timestamp() + seconds
    assert NY_ALWAYS.elapsed(start, due) == seconds


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(CALENDARS)),
    st.lists(st.tuples(st.integers(0, 1080 * 86400), st.integers(0, 20 * 86400)), max_size=40),
)
def test_batch_form_agrees_with_scalar(name: str, cases: list[tuple[int, int]]) -> None:
    cal = CALENDARS[name]
    zone = ZoneInfo(cal.tz)
    base = int(datetime(2024, 1, 1, tzinfo=zone).timestamp())
    starts = np.array([base + s for s, _ in cases], dtype=np.int64)
    seconds = np.array([n for _, n in cases], dtype=np.int64)
    expected = [
        int(cal.add_seconds(datetime.fromtimestamp(int(t), zone), int(n)).timestamp())
        for t, n in zip(starts, seconds, strict=True)
    ]
    exact = cal.add_many(starts, seconds)
    assert exact.dtype == np.int64
    assert exact.tolist() == expected
    assert cal.add_many(starts.astype(np.float64), seconds.astype(np.float64)).tolist() == expected
    assert cal.elapsed_many(starts, exact).tolist() == seconds.tolist()
