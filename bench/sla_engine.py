"""Due dates per second: kefu's business-time engine (scalar and numpy batch) against the
PyPI library businesstimedelta, on the same random cases, in one run.

    .venv/bin/python bench/sla_engine.py [--cases 100000] [--btd-cases 2000]

Calendar: cn-standard (Mon–Fri 09:00–12:00 and 13:30–18:00 Asia/Shanghai, 2024–2026 statutory
holidays closed and 调休 make-up working days open, from chinesecalendar). businesstimedelta
cannot express make-up working days, so it runs on the closest calendar it can express (the
same hours, the statutory holidays closed, the make-up days ignored) and its answers are
compared with kefu's on that same reduced calendar. It is slow, so it runs on a smaller sample
and its rate is per case, like the others. A sample of kefu's answers (scalar and batch) is
also checked against the slow wall-clock reading in kefu/calendars/oracle.py.

Install the baseline with ``.venv/bin/pip install businesstimedelta==1.0.1`` (the ``bench``
extra); without it the run says so and skips that row. Rates are the median of ``--rounds``
timed rounds; the machine's load average is printed, as other work skews the figures."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kefu.calendars import cn_holidays, oracle
from kefu.calendars.engine import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
HOURS = ["09:00-12:00", "13:30-18:00"]
YEARS = (2024, 2025, 2026)
SCALAR_TARGET = 300_000
BATCH_TARGET = 5_000_000


def calendars() -> tuple[BusinessCalendar, BusinessCalendar, set[dt.date]]:
    """cn-standard, the same without make-up days, and the statutory holidays."""
    closed: set[dt.date] = set()
    extra: dict[dt.date, list[str]] = {}
    for year in YEARS:
        holidays, workdays = cn_holidays.statutory_days(year)
        closed |= holidays.keys()
        extra.update({d: HOURS for d in workdays})
    weekly = {d: HOURS for d in range(5)}
    full = BusinessCalendar.from_spec(
        tz="Asia/Shanghai", weekly=weekly, closed=closed, extra=extra, known_years=YEARS
    )
    reduced = BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly=weekly, closed=closed)
    return full, reduced, closed


def cases(n: int, seed: int) -> tuple[list[dt.datetime], list[int]]:
    """Whole-minute starts from January 2024 to August 2026, a third of them within a few
    minutes of an opening edge; budgets of typical SLA targets or anything up to 50 business
    hours. Every due date stays inside the years chinesecalendar knows: businesstimedelta
    fails outright past the last holiday it is given."""
    rng = random.Random(seed)
    base = dt.datetime(2024, 1, 1, tzinfo=SH)
    span_days = (dt.date(2026, 9, 1) - dt.date(2024, 1, 1)).days
    starts: list[dt.datetime] = []
    for _ in range(n):
        if rng.random() < 1 / 3:
            edge = rng.choice([540, 720, 810, 1080]) + rng.randint(-3, 3)
            minute = rng.randrange(span_days) * 1440 + edge
        else:
            minute = rng.randrange(span_days * 1440)
        starts.append(base + dt.timedelta(minutes=minute))
    minutes = [
        rng.choice([30, 60, 120, 180, 240, 450, 480, 900, 1350, rng.randrange(1, 3000)])
        for _ in range(n)
    ]
    return starts, minutes


def timed(fn: Callable[[], Any], rounds: int) -> tuple[Any, float]:
    """The last result and the median seconds of ``rounds`` calls."""
    times = []
    result = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, statistics.median(times)


def businesstimedelta_rules(closed: set[dt.date]) -> Any | None:
    try:
        import businesstimedelta as btd
        import holidays as pyholidays
        import pytz
    except ImportError:
        return None
    tz = pytz.timezone("Asia/Shanghai")
    weekdays = [0, 1, 2, 3, 4]
    workday = btd.WorkDayRule(
        start_time=dt.time(9), end_time=dt.time(18), working_days=weekdays, tz=tz
    )
    lunch = btd.LunchTimeRule(
        start_time=dt.time(12), end_time=dt.time(13, 30), working_days=weekdays, tz=tz
    )
    statutory = pyholidays.HolidayBase()
    statutory.update(dict.fromkeys(closed, "statutory holiday"))
    return btd, btd.Rules([workday, lunch, btd.HolidayRule(statutory, tz=tz)])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--btd-cases", type=int, default=2_000)
    parser.add_argument("--oracle-cases", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    full, reduced, closed = calendars()
    starts, minutes = cases(args.cases, args.seed)
    full.add(starts[0], 1)  # lay the intervals out once, outside the timing
    reduced.add(starts[0], 1)

    scalar, scalar_s = timed(
        lambda: [full.add(s, m) for s, m in zip(starts, minutes, strict=True)], args.rounds
    )
    scalar_rate = args.cases / scalar_s

    epochs = np.array([int(s.timestamp()) for s in starts], dtype=np.int64)
    seconds = np.array(minutes, dtype=np.int64) * 60
    full.add_many(epochs[:10], seconds[:10])
    batch, batch_s = timed(lambda: full.add_many(epochs, seconds), args.rounds)
    batch_rate = args.cases / batch_s
    scalar_epochs = np.array([int(d.timestamp()) for d in scalar], dtype=np.int64)
    batch_vs_scalar = int(np.count_nonzero(batch != scalar_epochs))

    n_oracle = min(args.oracle_cases, args.cases)
    engine_wrong = batch_wrong = 0
    for k in range(n_oracle):
        expected = oracle.add(full, starts[k], minutes[k]).timestamp()
        engine_wrong += scalar[k].timestamp() != expected
        batch_wrong += int(batch[k]) != expected

    print(
        f"cn-standard, {args.cases:,} random (start, minutes) cases; median of {args.rounds} "
        f"rounds; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    for label, rate, target in (
        ("kefu engine, scalar", scalar_rate, SCALAR_TARGET),
        ("kefu engine, numpy batch", batch_rate, BATCH_TARGET),
    ):
        verdict = "met" if rate >= target else "NOT met"
        print(f"{label:30s}{rate:>14,.0f} due dates/s  (target ≥ {target:,}: {verdict})")
    print(f"  batch vs scalar: {batch_vs_scalar} disagreements of {args.cases:,}")
    print(
        f"  vs oracle (kefu/calendars/oracle.py), first {n_oracle} cases: "
        f"scalar {engine_wrong} disagreements, batch {batch_wrong}"
    )

    baseline = businesstimedelta_rules(closed)
    if baseline is None:
        print(
            "businesstimedelta is not installed: no baseline row "
            "(.venv/bin/pip install businesstimedelta==1.0.1)"
        )
        return
    btd, rules = baseline
    n = min(args.btd_cases, args.cases)
    sample = list(zip(starts[:n], minutes[:n], strict=True))
    btd_due, btd_s = timed(
        lambda: [
            s + btd.BusinessTimeDelta(rules, hours=m // 60, seconds=m % 60 * 60) for s, m in sample
        ],
        1,
    )
    btd_rate = n / btd_s
    reduced_due = [reduced.add(s, m) for s, m in sample]
    mismatch = sum(
        a.timestamp() != b.timestamp() for a, b in zip(btd_due, reduced_due, strict=True)
    )
    print(
        f"{'businesstimedelta 1.0.1':30s}{btd_rate:>14,.0f} due dates/s  ({n:,} cases, one round)"
    )
    print(
        "  on the calendar it can express: same hours and statutory holidays, make-up "
        "working days (调休) ignored"
    )
    print(f"  disagreements with kefu on that reduced calendar: {mismatch} of {n:,}")
    print(f"ratio kefu scalar / businesstimedelta: {scalar_rate / btd_rate:>10,.0f}×")
    print(f"ratio kefu batch  / businesstimedelta: {batch_rate / btd_rate:>10,.0f}×")


if __name__ == "__main__":
    main()
