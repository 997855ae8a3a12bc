"""Parsing numbers and dates that arrive in URLs and forms, for pages and API alike.

A value outside what kefu can store or compute with (an id beyond a 64-bit integer, a date
whose next day does not exist, year 0) is the sender's mistake: :class:`BadRequest`, which
Django answers 400 and the API answers ``{"detail": ...}`` with 400 — never a 500 from the
database or from date arithmetic further down."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import BadRequest

MAX_ID = 2**63 - 1  # the largest value of a (Big)AutoField / integer column
FIRST_YEAR, LAST_YEAR = 1900, 2999  # nothing kefu keeps or reports on lies outside


def int_param(text: str, *, name: str) -> int | None:
    """A non-negative id from a query string or form; empty → ``None``."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise BadRequest(f"{name}: 不是有效的编号 / not a valid id")
    return int(text)


def date_in_range(day: date, *, name: str) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadRequest(f"{name}: 日期超出范围 / date out of range ({FIRST_YEAR}–{LAST_YEAR})")
    return day


def date_param(text: str, *, name: str) -> date | None:
    """``YYYY-MM-DD`` from a query string or form; empty → ``None``."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"{name}: 日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD") from exc
    return date_in_range(day, name=name)
