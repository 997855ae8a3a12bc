"""Due dates per second: kefu's business-time engine (scalar and numpy batch) against the
PyPI library businesstimedelta, on the same random cases, in one run.

    .venv/bin/python bench/sla_engine.py [--cases 100000]

Calendar: cn-standard (Mon–Fri 09:00–12:00 and 13:30–18:00 Asia/Shanghai, statutory holidays
closed, 调休 make-up days open) for kefu. businesstimedelta cannot express make-up working
days, so it runs on the closest calendar it can express: the same hours with the statutory
holidays closed and the make-up days ignored; its answers are compared with kefu's on that
same reduced calendar. Every engine answer on a sample is also checked against the slow
minute-by-minute reading (kefu/calendars/slow.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kefu.calendars import cn_holidays
from kefu.calendars.engine import BusinessCalendar
from kefu.calendars.slow import slow_add

SH = ZoneInfo("Asia/Shanghai")
DAY = ["09:00-12:00", "13:30-18:00"]


def calendars() -> tuple[BusinessCalendar, BusinessCalendar, set[dt.date]]:
    closed: set[dt.date] = set()
    extra: dict[dt.date, list[str]] = {}
    for year in (2024, 2025, 2026):
        holidays, workdays = cn_holidays.statutory_days(year)
        closed |= set(holidays)
        extra.update({d: DAY for d in workdays})
    weekly = {d: DAY for d in range(5)}
    full = BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly=weekly, closed=closed, extra=extra)
    reduced = BusinessCalendar.from_spec(tz="Asia/Shanghai", weekly=weekly, closed=closed)
    return full, reduced, closed


def cases(n: int, seed: int = 7) -> tuple[list[dt.datetime], list[int]]:
    rng = random.Random(seed)
    base = dt.datetime(2024, 1, 1, tzinfo=SH)
    starts = [base + dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 1440)) for _ in range(n)]
    minutes = [
        rng.choice([1, 60, 120, 240, 450, 900, 2250, rng.randrange(1, 3000)]) for _ in range(n)
    ]
    return starts, minutes


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--btd-cases", type=int, default=2_000)
    parser.add_argument("--oracle-cases", type=int, default=300)
    args = parser.parse_args()

    full, reduced, closed = calendars()
    starts, minutes = cases(args.cases)
    full.add(starts[0], 1)  # lay out the intervals once, outside the timing

    t0 = time.perf_counter()
    scalar = [full.add(s, m) for s, m in zip(starts, minutes, strict=True)]
    scalar_rate = rate(args.cases, time.perf_counter() - t0)

    epochs = np.array([s.timestamp() for s in starts], dtype=np.float64)
    secs = np.array(minutes, dtype=np.float64) * 60
    full.add_many(epochs[:10], secs[:10])
    t0 = time.perf_counter()
    batch = full.add_many(epochs, secs)
    batch_rate = rate(args.cases, time.perf_counter() - t0)
    batch_disagree = int(np.sum(batch != np.array([d.timestamp() for d in scalar])))

    oracle_disagree = sum(
        full.add(s, m) != slow_add(full, s, m)
        for s, m in zip(starts[: args.oracle_cases], minutes[: args.oracle_cases], strict=True)
    )

    print(f"calendar cn-standard, {args.cases:,} cases")
    print(f"kefu engine (scalar)        {scalar_rate:>14,.0f} due dates/s")
    print(
        f"kefu engine (numpy batch)   {batch_rate:>14,.0f} due dates/s "
        f"(disagreements with scalar: {batch_disagree})"
    )
    print(f"oracle check                {args.oracle_cases} cases, {oracle_disagree} disagreements")

    try:
        import businesstimedelta as btd
        import holidays as pyholidays
    except ImportError:
        print(
            "businesstimedelta is not installed (pip install businesstimedelta==1.0.1): "
            "no baseline row"
        )
        return
    import pytz

    tz = pytz.timezone("Asia/Shanghai")
    workday = btd.WorkDayRule(
        start_time=dt.time(9), end_time=dt.time(18), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    lunch = btd.LunchTimeRule(
        start_time=dt.time(12), end_time=dt.time(13, 30), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    cn_days = pyholidays.HolidayBase()
    cn_days.update({d: "statutory holiday" for d in closed})
    holiday_rule = btd.HolidayRule(cn_days, tz=tz)
    rules = btd.Rules([workday, lunch, holiday_rule])
    n = min(args.btd_cases, args.cases)
    t0 = time.perf_counter()
    btd_due = [
        s + btd.BusinessTimeDelta(rules, hours=m // 60, seconds=(m % 60) * 60)
        for s, m in zip(starts[:n], minutes[:n], strict=True)
    ]
    btd_rate = rate(n, time.perf_counter() - t0)
    reduced_due = [reduced.add(s, m) for s, m in zip(starts[:n], minutes[:n], strict=True)]
    mismatch = sum(a != b for a, b in zip(btd_due, reduced_due, strict=True))
    print(
        f"businesstimedelta 1.0.1     {btd_rate:>14,.0f} due dates/s "
        f"({n:,} cases; holidays closed, make-up days not expressible)"
    )
    print(f"  disagreements with kefu on that reduced calendar: {mismatch} of {n}")
    print(f"ratio scalar / businesstimedelta: {scalar_rate / btd_rate:,.0f}×")
    print(f"ratio batch  / businesstimedelta: {batch_rate / btd_rate:,.0f}×")


if __name__ == "__main__":
    main()
