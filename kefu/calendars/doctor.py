"""The calendars app's ``kefu doctor`` check: this year's and next year's statutory days are
loaded. Next year's are published by the State Council late in the year: before December
their absence is a note, from December on a problem (clocks running into January would be
provisional)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from kefu.calendars.health import check_holidays
from kefu.calendars.models import HolidayYear
from kefu.core.doctor import Finding, note, problem

# From this month on, next year's days are expected to be in.
EXPECT_NEXT_YEAR_FROM_MONTH = 12


def _fix(year: int) -> str:
    return (
        f"运行 kefu calendar sync --year {year}；若 chinesecalendar 还不认识 {year} 年，先升级它"
        f"（pip install -U chinesecalendar）/ run kefu calendar sync --year {year}, after "
        f"upgrading chinesecalendar if it does not know {year} yet"
    )


def holidays() -> Iterator[Finding]:
    today = timezone.localdate()
    if not HolidayYear.objects.filter(year=today.year).exists():
        yield problem(
            "holidays",
            f"今年（{today.year}）的法定节假日未载入：时效计时只是临时值 / this year's "
            f"({today.year}) statutory days are not loaded: SLA clocks are provisional",
            _fix(today.year),
        )
    if check_holidays().ok:
        return
    year = today.year + 1
    what = f"明年（{year}）的法定节假日未载入 / next year's ({year}) statutory days are not loaded"
    if today.month >= EXPECT_NEXT_YEAR_FROM_MONTH:
        yield problem("holidays", what, _fix(year))
    else:
        yield note("holidays", f"{what}（通常在年底公布 / usually published late in the year）")
