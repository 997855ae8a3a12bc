"""The rules a calendar's fields must keep, shared by the YAML loader
(:func:`kefu.calendars.services.calendar_parse`) and the admin's forms, so a calendar that
one of them accepts the engine can always build. Each check returns the cleaned value or
raises :class:`~django.core.exceptions.ValidationError` whose message starts with the
field's path (``weekly.mon[0]: …``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")


def intervals_check(value: Any, path: str) -> list[str]:
    """A day's opening intervals: ``["09:00-12:00", "13:30-18:00"]``, increasing and not
    overlapping; ``24:00`` may end the last one. An empty list is a closed day."""
    if not isinstance(value, list):
        raise ValidationError(f"{path}: 应为时间段列表 / expected a list like ['09:00-12:00']")
    out = []
    last_end = -1
    for i, item in enumerate(value):
        text = str(item).strip()
        m = _INTERVAL.match(text)
        if not m:
            raise ValidationError(
                f"{path}[{i}]: 无效的时间段 / bad interval {item!r} (HH:MM-HH:MM)"
            )
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = 24 * 60 if m.group(3) == "24:00" else int(m.group(4)) * 60 + int(m.group(5))
        if end <= start or start < last_end:
            raise ValidationError(
                f"{path}[{i}]: 时间段需递增且不重叠 / intervals must increase and not overlap"
            )
        last_end = end
        out.append(text)
    return out


def weekly_check(value: Any, path: str = "weekly") -> dict[str, list[str]]:
    """``mon``…``sun`` → intervals; a day not listed is closed, but some day must be open
    (a calendar that is never open has no due time to give)."""
    if not isinstance(value, dict):
        raise ValidationError(f"{path}: 应为 mon…sun 到时间段的映射 / expected a mapping")
    weekly = {}
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(
                f"{path}.{day}: 应为 mon…sun / expected one of {', '.join(WEEKDAYS)}"
            )
        weekly[day] = intervals_check(intervals, f"{path}.{day}")
    if not any(weekly.values()):
        raise ValidationError(
            f"{path}: 至少需要一段每周服务时间 / a calendar needs weekly opening hours"
        )
    return weekly


def timezone_check(value: Any, path: str = "timezone") -> str:
    """An IANA time zone name such as ``Asia/Shanghai``."""
    tz = str(value or "").strip()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{path}: 未知时区 / unknown time zone {value!r}") from exc
    return tz


def date_check(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"{path}: 无效日期 / bad date {value!r} (YYYY-MM-DD)") from exc
