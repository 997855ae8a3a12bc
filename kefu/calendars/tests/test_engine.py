"""The business-time engine on hand-checked cases: the cn-standard calendar (Mon–Fri
09:00–12:00 and 13:30–18:00 Asia/Shanghai, statutory holidays closed, 调休 make-up days open),
a 7×24 calendar and New York across both DST changes of 2026."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kefu.calendars import cn_holidays
from kefu.calendars.engine import BusinessCalendar, IntervalLike, parse_interval

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
CN_HOURS = ["09:00-12:00", "13:30-18:00"]
CN_YEARS = (2024, 2025, 2026)


def cn_standard() -> BusinessCalendar:
    closed: set[date] = set()
    extra: dict[date, list[str]] = {}
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


def always_open(tz: str) -> BusinessCalendar:
    return BusinessCalendar.from_spec(tz=tz, weekly={d: ["00:00-24:00"] for d in range(7)})


CN = cn_standard()
NEW_YORK = BusinessCalendar.from_spec(
    tz="America/New_York",
    weekly={
        **{d: ["09:00-17:00"] for d in range(5)},
        # Sunday hours around 02:00, when the clocks change (8 March and 1 November 2026).
        6: ["00:00-01:30", "02:00-04:00"],
    },
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY, fold=fold)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # An e-mail at 20:00 on Friday counts from Monday 09:00: 3 h before lunch, 1 h after.
        (sh(2026, 11, 20, 20, 0), 240, sh(2026, 11, 23, 14, 30)),
        # A target that uses up the morning exactly is due at 12:00, not at 13:30.
        (sh(2026, 11, 23, 9, 0), 180, sh(2026, 11, 23, 12, 0)),
        # ... and one more minute is due a minute after the afternoon opens.
        (sh(2026, 11, 23, 9, 0), 181, sh(2026, 11, 23, 13, 31)),
        # Inside the lunch break: counts from 13:30.
        (sh(2026, 11, 23, 12, 40), 30, sh(2026, 11, 23, 14, 0)),
        # A whole business day from the opening ends at that day's close.
        (sh(2026, 11, 23, 9, 0), 450, sh(2026, 11, 23, 18, 0)),
        # Spring Festival 2026: Saturday 14 Feb is a make-up working day, 15–23 Feb are
        # closed, Tuesday 24 Feb opens again and Saturday 28 Feb is another make-up day.
        (sh(2026, 2, 13, 17, 0), 240, sh(2026, 2, 14, 12, 0)),
        (sh(2026, 2, 14, 17, 0), 120, sh(2026, 2, 24, 10, 0)),
        (sh(2026, 2, 27, 17, 30), 60, sh(2026, 2, 28, 9, 30)),
        # National Day 2026: 1–7 Oct closed (also the Mid-autumn Festival); Saturday 10 Oct
        # is a make-up day.
        (sh(2026, 9, 30, 17, 0), 120, sh(2026, 10, 8, 10, 0)),
        (sh(2026, 10, 9, 17, 0), 120, sh(2026, 10, 10, 10, 0)),
    ],
)
def test_cn_standard_due_dates(start: datetime, minutes: int, due: datetime) -> None:
    assert CN.add(start, minutes) == due
    assert CN.elapsed(start, due) == minutes * 60


def test_2026_spring_festival_days_come_from_chinesecalendar() -> None:
    holidays, workdays = cn_holidays.statutory_days(2026)
    festival = {d for d, name in holidays.items() if name == "春节"}
    assert festival == {date(2026, 2, d) for d in range(15, 24)}
    assert {d for d, name in workdays.items() if name == "春节"} == {
        date(2026, 2, 14),
        date(2026, 2, 28),
    }
    assert not CN.is_open(sh(2026, 2, 16, 10, 0))
    assert CN.is_open(sh(2026, 2, 14, 10, 0))
    assert not CN.is_open(sh(2026, 2, 21, 10, 0))


def test_elapsed_across_the_spring_festival() -> None:
    # Friday 13, make-up Saturday 14, then nothing until Tuesday 24: three 7.5 h days.
    assert CN.elapsed(sh(2026, 2, 13, 9, 0), sh(2026, 2, 25, 9, 0)) == 3 * 450 * 60


@pytest.mark.parametrize("year", [2027, 2003])
def test_a_year_chinesecalendar_does_not_know_is_an_error_naming_it(year: int) -> None:
    with pytest.raises(cn_holidays.UnknownYearError, match=str(year)) as caught:
        cn_holidays.statutory_days(year)
    assert caught.value.year == year


def test_spans_outside_the_known_years_are_provisional() -> None:
    assert CN.is_provisional(sh(2027, 1, 4, 9, 0))
    assert CN.is_provisional(sh(2026, 12, 30, 9, 0), sh(2027, 1, 4, 9, 0))
    assert not CN.is_provisional(sh(2026, 3, 2, 9, 0), sh(2026, 3, 9, 9, 0))
    # Without known years nothing is provisional.
    assert not NEW_YORK.is_provisional(ny(2040, 1, 1))


def test_is_open_and_next_open() -> None:
    assert CN.is_open(sh(2026, 11, 23, 9, 0))
    assert not CN.is_open(sh(2026, 11, 23, 12, 0))
    assert CN.next_open(sh(2026, 11, 23, 12, 0)) == sh(2026, 11, 23, 13, 30)
    assert CN.next_open(sh(2026, 11, 20, 18, 0)) == sh(2026, 11, 23, 9, 0)
    assert CN.next_open(sh(2026, 11, 23, 10, 15)) == sh(2026, 11, 23, 10, 15)


def test_adding_nothing_is_the_start_itself_open_or_not() -> None:
    for start in (sh(2026, 11, 23, 10, 0), sh(2026, 11, 22, 10, 0)):
        assert CN.add(start, 0) == start
        assert CN.elapsed(start, start) == 0


def test_a_start_outside_opening_hours_counts_from_the_next_opening() -> None:
    saturday = sh(2026, 11, 21, 15, 0)
    assert CN.add(saturday, 1) == sh(2026, 11, 23, 9, 1)
    assert CN.elapsed(saturday, sh(2026, 11, 23, 9, 0)) == 0


def test_results_are_in_the_calendars_zone_and_keep_microseconds() -> None:
    start = datetime(2026, 11, 23, 1, 0, 0, 250_000, tzinfo=UTC)  # 09:00:00.25 in Shanghai
    due = CN.add_seconds(start, 60)
    assert due.tzinfo == SH
    assert due == sh(2026, 11, 23, 9, 1) + timedelta(microseconds=250_000)
    assert CN.elapsed(start, due) == 60


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 23, 9, 0)
    for call in (
        lambda: CN.add(naive, 10),
        lambda: CN.elapsed(naive, sh(2026, 11, 24)),
        lambda: CN.is_open(naive),
        lambda: CN.next_open(naive),
        lambda: CN.is_provisional(naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_end_before_start_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="before start"):
        CN.elapsed(sh(2026, 11, 24), sh(2026, 11, 23))
    with pytest.raises(ValueError, match=">= 0"):
        CN.add(sh(2026, 11, 24), -1)


def test_seven_by_twenty_four_is_continuous_time() -> None:
    always = always_open("Asia/Shanghai")
    start = sh(2026, 2, 14, 23, 30)
    assert always.add(start, 120) == start + timedelta(hours=2)
    assert always.add(start, 3 * 1440) == start + timedelta(days=3)
    assert always.elapsed(start, start + timedelta(days=3)) == 3 * 86400
    assert always.is_open(sh(2026, 2, 17, 0, 0))


def test_seven_by_twenty_four_in_new_york_counts_real_hours_over_dst() -> None:
    always = always_open("America/New_York")
    # 8 March 2026 has 23 real hours in New York, 1 November 2026 has 25.
    assert always.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * 3600
    assert always.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * 3600
    assert always.add(ny(2026, 3, 7, 12, 0), 24 * 60) == ny(2026, 3, 8, 13, 0)


def test_new_york_weekdays_across_both_dst_changes() -> None:
    weekdays = BusinessCalendar.from_spec(
        tz="America/New_York", weekly={d: ["09:00-17:00"] for d in range(5)}
    )
    # Friday 16:00 EST + 2 h: 1 h on Friday, 1 h on Monday, which is on EDT.
    due = weekdays.add(ny(2026, 3, 6, 16, 0), 120)
    assert due.timestamp() == ny(2026, 3, 9, 10, 0).timestamp()
    assert due.utcoffset() == timedelta(hours=-4)
    assert weekdays.elapsed(ny(2026, 10, 30, 9, 0), ny(2026, 11, 2, 17, 0)) == 16 * 3600
    assert weekdays.add(ny(2026, 10, 30, 16, 0), 120).utcoffset() == timedelta(hours=-5)


def _sunday_seconds(year: int, month: int, day: int) -> int:
    midnight = ny(year, month, day)
    return NEW_YORK.elapsed(midnight, midnight + timedelta(days=1))


def test_hours_around_the_dst_changes_follow_the_wall_clock() -> None:
    # Spring forward, 8 March: 02:00–03:00 does not exist, so 00:00–01:30 is 1.5 h and
    # 02:00–04:00 is 1 h.
    assert _sunday_seconds(2026, 3, 8) == int(2.5 * 3600)
    # Fall back, 1 November: 01:00–02:00 happens twice. 00:00–01:30 is open while the clock
    # shows 00:00–01:30 (1.5 h, then 0.5 h more after the clocks go back); 02:00–04:00 is 2 h.
    assert _sunday_seconds(2026, 11, 1) == 4 * 3600
    assert NEW_YORK.is_open(ny(2026, 11, 1, 1, 15, fold=0))
    assert not NEW_YORK.is_open(ny(2026, 11, 1, 1, 45, fold=0))
    assert NEW_YORK.is_open(ny(2026, 11, 1, 1, 15, fold=1))
    # Datetimes in the repeated hour compare oddly (PEP 495): compare their timestamps.
    second_one = NEW_YORK.next_open(ny(2026, 11, 1, 1, 45, fold=0))
    assert second_one.timestamp() == utc(2026, 11, 1, 6, 0).timestamp()
    assert (second_one.hour, second_one.minute, second_one.fold) == (1, 0, 1)
    # From the first 01:29, 1 + 30 minutes run out at the second 01:30 (EST, 06:30 UTC).
    due = NEW_YORK.add(ny(2026, 11, 1, 1, 29), 31)
    assert due.timestamp() == utc(2026, 11, 1, 6, 30).timestamp()


def test_a_spring_forward_interval_lasts_one_real_hour() -> None:
    cal = BusinessCalendar.from_spec(tz="America/New_York", weekly={6: ["01:00-03:00"]})
    assert cal.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == 3600
    fall = BusinessCalendar.from_spec(tz="America/New_York", weekly={6: ["01:00-02:00"]})
    assert fall.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == 2 * 3600


def test_extra_dates_override_closed_dates_and_weekdays() -> None:
    cal = BusinessCalendar.from_spec(
        tz="Asia/Shanghai",
        weekly={d: CN_HOURS for d in range(5)},
        closed={date(2026, 12, 31), date(2026, 12, 26)},
        extra={date(2026, 12, 26): ["09:00-12:00"], date(2026, 12, 30): []},
    )
    assert cal.add(sh(2026, 12, 25, 17, 30), 60) == sh(2026, 12, 26, 9, 30)
    # 30 and 31 December shut, Friday 1 January open (no holiday data given).
    assert cal.add(sh(2026, 12, 29, 17, 0), 120) == sh(2027, 1, 1, 10, 0)


def test_the_layout_grows_in_both_directions() -> None:
    cal = cn_standard()
    assert cal.add(sh(2026, 11, 20, 20, 0), 240) == sh(2026, 11, 23, 14, 30)
    # Years without holiday data are plain weekday calendars (and provisional).
    assert cal.add(sh(2019, 11, 22, 20, 0), 240) == sh(2019, 11, 25, 14, 30)
    assert cal.add(sh(2035, 11, 23, 9, 0), 180) == sh(2035, 11, 23, 12, 0)
    # 2,000 business hours is more than a year of them.
    start = sh(2026, 1, 5, 9, 0)
    due = cal.add(start, 2000 * 60)
    assert due.year == 2027
    assert cal.elapsed(start, due) == 2000 * 3600


def test_a_calendar_with_only_extra_dates_runs_out() -> None:
    cal = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly={}, extra={date(2026, 5, 9): ["09:00-10:00"]}
    )
    assert cal.add(sh(2026, 1, 1), 30) == sh(2026, 5, 9, 9, 30)
    with pytest.raises(ValueError, match="no opening hours after"):
        cal.add(sh(2026, 1, 1), 120)
    with pytest.raises(ValueError, match="some opening hours"):
        BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly={})


@pytest.mark.parametrize(
    ("spec", "minutes"),
    [
        ("09:00-12:00", (540, 720)),
        ("00:00-24:00", (0, 1440)),
        (" 9:00 - 12:30 ", (540, 750)),
        (("13:30", "18:00"), (810, 1080)),
        ((time(22), time(0)), (1320, 1440)),
        ((540, 720), (540, 720)),
    ],
)
def test_interval_specs(spec: IntervalLike, minutes: tuple[int, int]) -> None:
    assert parse_interval(spec) == minutes


@pytest.mark.parametrize("spec", ["12:00-09:00", "09:00", "09:60-10:00", "00:00-24:01", "9-12"])
def test_bad_interval_specs_are_named(spec: str) -> None:
    with pytest.raises(ValueError, match="bad interval"):
        parse_interval(spec)


def test_bad_weekdays_and_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="weekdays"):
        BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly={7: CN_HOURS})
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar.from_spec(tz="Mars/Olympus", weekly={0: CN_HOURS})


def test_the_calendar_is_a_frozen_value() -> None:
    twin = cn_standard()
    assert twin == CN
    assert hash(twin) == hash(CN)
    assert twin != NEW_YORK
    with pytest.raises(dataclasses.FrozenInstanceError):
        CN.tz = "UTC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CN.weekly[5] = ((540, 600),)  # type: ignore[index]
    for clone in (copy.deepcopy(CN), pickle.loads(pickle.dumps(CN))):  # noqa: S301
        assert clone == CN
        assert clone.add(sh(2026, 2, 14, 17, 0), 120) == sh(2026, 2, 24, 10, 0)


def test_the_constructor_takes_minutes_or_times() -> None:
    by_minutes = BusinessCalendar(tz="Asia/Shanghai", weekly={0: [(540, 720), (810, 1080)]})
    by_times = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly={0: [(time(9), time(12)), (time(13, 30), time(18))]}
    )
    by_text = BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly={0: CN_HOURS})
    assert by_minutes == by_times == by_text
    assert by_minutes.add(sh(2026, 11, 23, 11, 0), 90) == sh(2026, 11, 23, 14, 0)


def test_overlapping_and_touching_intervals_merge() -> None:
    cal = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly={0: ["09:00-12:00", "11:00-13:00", "13:00-14:00"]}
    )
    assert cal.weekly[0] == ((540, 840),)
    assert cal.add(sh(2026, 11, 23, 9, 0), 300) == sh(2026, 11, 23, 14, 0)


def test_batch_form_matches_the_scalar_form() -> None:
    starts = [sh(2026, 11, 20, 20, 0), sh(2026, 11, 23, 9, 0), sh(2026, 2, 14, 17, 0)]
    minutes = [240, 180, 120]
    epochs = np.array([int(s.timestamp()) for s in starts], dtype=np.int64)
    seconds = np.array(minutes, dtype=np.int64) * 60
    due = CN.add_many(epochs, seconds)
    assert due.dtype == np.int64
    expected = [int(CN.add(s, m).timestamp()) for s, m in zip(starts, minutes, strict=True)]
    assert due.tolist() == expected
    assert CN.add_many(epochs.astype(float), seconds).tolist() == expected
    assert CN.elapsed_many(epochs, due).tolist() == [m * 60 for m in minutes]
    assert CN.add_many(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).size == 0
    with pytest.raises(ValueError, match=">= 0"):
        CN.add_many(epochs, -seconds)


def _epochs(*instants: datetime) -> np.ndarray:
    return np.array([int(t.timestamp()) for t in instants], dtype=np.int64)


def test_batch_zero_business_time_is_the_start_itself_open_or_not() -> None:
    starts = _epochs(sh(2026, 11, 21, 20, 0), sh(2026, 11, 23, 12, 0), sh(2026, 11, 23, 9, 30))
    assert CN.add_many(starts, 0).tolist() == starts.tolist()
    assert CN.add_many(starts.astype(float), 0.0).tolist() == starts.tolist()
    assert CN.elapsed_many(starts, starts).tolist() == [0, 0, 0]
    assert CN.elapsed_many(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).size == 0
    # Open only on one date: after it, nothing can be added, but zero still can.
    once = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly={}, extra={date(2026, 11, 23): ["09:00-12:00"]}
    )
    later = _epochs(sh(2026, 12, 1, 9, 0))
    assert once.add_many(later, 0).tolist() == later.tolist()
    with pytest.raises(ValueError, match="no opening hours after"):
        once.add_many(later, 60)
    # Element by element as add_seconds: a zero past the last opening does not stop the rest.
    both = _epochs(sh(2026, 11, 23, 9, 0), sh(2026, 12, 1, 9, 0))
    assert once.add_many(both, np.array([60, 0])).tolist() == [both[0] + 60, both[1]]
    assert once.add_seconds(sh(2026, 12, 1, 9, 0), 0) == sh(2026, 12, 1, 9, 0)
    # Years with no opening at all: nothing elapses.
    far = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly={}, extra={date(2026, 11, 23): ["09:00-12:00"]}
    )
    y2040 = _epochs(sh(2040, 3, 1, 9, 0))
    assert far.elapsed_many(y2040, y2040 + 7200).tolist() == [0]
    # Float starts that no binary fraction holds come back unchanged, not rounded.
    messy = sh(2026, 11, 23, 9, 0).timestamp() + np.arange(1, 2000) * 0.1
    assert (CN.add_many(messy, 0.0) == messy).all()
    still = np.arange(1, 2000) % 2 == 1
    mixed = CN.add_many(messy, np.where(still, 0.0, 0.3))
    assert (mixed[still] == messy[still]).all()


def test_batch_fractional_seconds_are_kept_and_elapsed_rounds_to_nearest() -> None:
    start = sh(2026, 11, 23, 11, 59).timestamp() + 59.25  # 11:59:59.25, Monday
    due = CN.add_many(np.array([start, start]), np.array([0.5, 1.5]))
    assert due.dtype == np.float64
    # 0.75 s are left before lunch; the rest counts from 13:30.
    assert due.tolist() == [start + 0.5, sh(2026, 11, 23, 13, 30).timestamp() + 0.75]
    lunch = sh(2026, 11, 23, 12, 0).timestamp() + 0.5  # inside the lunch break
    after_lunch = sh(2026, 11, 23, 13, 30).timestamp()
    assert CN.add_many(np.array([lunch]), 1.0).tolist() == [after_lunch + 1]
    nine = sh(2026, 11, 23, 9, 0).timestamp()
    ends = nine + np.array([0.4, 0.6, 2.5, 3.5])
    assert CN.elapsed_many(np.full(4, nine), ends).tolist() == [0, 1, 2, 4]
    assert [
        CN.elapsed(sh(2026, 11, 23, 9), datetime.fromtimestamp(e, SH)) for e in ends
    ] == [0, 1, 2, 4]
    # From inside the lunch break to 13:30:00.6: the break does not count.
    assert CN.elapsed_many(np.array([lunch]), np.array([lunch + 5400.1])).tolist() == [1]
    with pytest.raises(ValueError, match="finite"):
        CN.add_many(np.array([nine]), np.array([np.nan]))
    with pytest.raises(ValueError, match="finite"):
        CN.elapsed_many(np.array([nine]), np.array([np.inf]))


def test_batch_reversed_inputs() -> None:
    starts = _epochs(
        sh(2026, 11, 20, 20, 0), sh(2026, 11, 23, 9, 0), sh(2026, 11, 23, 11, 0), sh(2027, 1, 4)
    )
    seconds = np.array([240, 180, 90, 30], dtype=np.int64) * 60
    forward = CN.add_many(starts, seconds)
    # The same pairs in the opposite order give the same answers in the opposite order.
    assert CN.add_many(starts[::-1], seconds[::-1]).tolist() == forward[::-1].tolist()
    assert CN.elapsed_many(starts[::-1], forward[::-1]).tolist() == seconds[::-1].tolist()
    # An end before its start is refused, even when only one pair is reversed.
    ends = forward.copy()
    ends[2] = starts[2] - 1
    with pytest.raises(ValueError, match="before its start"):
        CN.elapsed_many(starts, ends)
    with pytest.raises(ValueError, match=">= 0"):
        CN.add_many(starts, np.array([60, 60, -1, 60]))
