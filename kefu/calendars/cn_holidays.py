"""Mainland-China statutory holidays (法定节假日) and make-up working days (调休上班) from the
``chinesecalendar`` package. Pure Python, no Django.

The package ships the State Council's arrangements year by year and raises
``NotImplementedError`` for a year it has no data for; that becomes
:class:`UnknownYearError` here, so nothing downstream ever mistakes an unpublished year for
one where every weekday is a workday."""

from __future__ import annotations

from datetime import date

import chinese_calendar

NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class UnknownYearError(LookupError):
    """The holiday arrangement of ``year`` is not in the installed chinesecalendar data."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"chinesecalendar 不知道 {year} 年的节假日安排 "
            f"(holiday data for {year} is not published yet)"
        )
        self.year = year


def _name(value: object) -> str:
    # Values are English names (str); an Enum member is read through its value.
    text = str(getattr(value, "value", value) or "")
    return NAMES_ZH.get(text, text)


def published_years() -> list[int]:
    """The years whose arrangement the installed chinesecalendar holds, in order."""
    return sorted({d.year for d in chinese_calendar.holidays})


def statutory_days(year: int) -> tuple[dict[date, str], dict[date, str]]:
    """``(holidays, make-up working days)`` of ``year``, each mapping date → Chinese name
    (春节, 国庆节, …). Holidays include the weekend days inside a holiday stretch.

    Raises :class:`UnknownYearError` for a year the package has no data for."""
    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError as exc:
        raise UnknownYearError(year) from exc
    holidays = {d: _name(n) for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: _name(n) for d, n in chinese_calendar.workdays.items() if d.year == year}
    return holidays, workdays
