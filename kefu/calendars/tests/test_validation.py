"""The shared calendar rules promise that what they accept the engine can build (so a saved
calendar never turns the next ticket into a 500): checked against the engine itself."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.calendars.engine import BusinessCalendar
from kefu.calendars.validation import (
    WEEKDAYS,
    date_check,
    intervals_check,
    timezone_check,
    weekly_check,
)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


clock = st.tuples(st.integers(0, 25), st.integers(0, 61)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}")
# A day as people write it: increasing edges paired into intervals (mostly valid) …
tidy_day = (
    st.lists(st.integers(0, 1440), min_size=2, max_size=8, unique=True)
    .map(sorted)
    .map(lambda m: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in zip(m[::2], m[1::2], strict=False)])
)
# … and the slips an admin makes (hours past 23, minutes past 59, text, overlaps).
slip = st.one_of(st.tuples(clock, clock).map("-".join), st.text(max_size=12))
day = st.one_of(
    tidy_day,
    st.tuples(tidy_day, slip, st.integers(0, 4)).map(
        lambda t: [*t[0][: t[2]], t[1], *t[0][t[2] :]]
    ),
    st.text(max_size=5),
)
weekly = st.dictionaries(
    st.sampled_from([*WEEKDAYS, *WEEKDAYS, "monday", "Mon", "8"]), day, max_size=4
)
zones = st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", "Asia/Beijing", "", "GMT+8"])


@settings(max_examples=500)
@given(weekly, zones)
def test_what_the_rules_accept_the_engine_builds(value: dict, tz: str) -> None:
    try:
        checked = weekly_check(value)
        zone = timezone_check(tz)
    except ValidationError:
        return
    engine = BusinessCalendar.from_spec(
        tz=zone, weekly={WEEKDAYS.index(day): hours for day, hours in checked.items()}
    )
    start = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo(zone))
    due = engine.add_seconds(start, 3600)
    assert engine.elapsed(start, due) == 3600


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("09:00-12:00", "hours"),  # not a list
        (["12:00-12:00"], "hours[0]"),  # empty
        (["09:00-12:00", "11:59-13:00"], "hours[1]"),  # overlapping
        (["24:00-24:00"], "hours[0]"),
        (["09:00-12:60"], "hours[0]"),
    ],
)
def test_bad_intervals_name_the_item(value: object, path: str) -> None:
    with pytest.raises(ValidationError) as refused:
        intervals_check(value, "hours")
    assert refused.value.messages[0].startswith(f"{path}:")


def test_good_values_come_back_clean() -> None:
    assert intervals_check([" 09:00-12:00 ", "13:30-24:00"], "hours") == [
        "09:00-12:00",
        "13:30-24:00",
    ]
    assert intervals_check([], "hours") == []  # a closed day
    assert timezone_check(" Asia/Shanghai ") == "Asia/Shanghai"
    assert date_check("2026-12-31", "closed[0]") == date(2026, 12, 31)
    with pytest.raises(ValidationError, match=r"closed\[0\]"):
        date_check("2026-02-30", "closed[0]")
