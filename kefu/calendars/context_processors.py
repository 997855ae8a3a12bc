from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kefu.accounts.roles import Role
from kefu.calendars.models import HolidayYear


def holiday_year(request: HttpRequest) -> dict[str, Any]:
    """The banner asking admins and supervisors to enter next year's holidays."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.role in (Role.ADMIN, Role.SUPERVISOR):
        return {"holiday_year_missing": missing_holiday_year()}
    return {}


def missing_holiday_year() -> int | None:
    """From 1 November, next year's statutory holidays must be entered: return that year
    while they are not (SLA clocks running into it are provisional until then)."""
    today = timezone.localdate()
    if today.month < 11:
        return None
    year = today.year + 1
    return None if HolidayYear.objects.filter(year=year).exists() else year
