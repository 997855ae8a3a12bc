from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from kefu.accounts.roles import Role


def kefu(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"KEFU_LANGUAGES": settings.LANGUAGES}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.role in (Role.ADMIN, Role.SUPERVISOR):
        context["holiday_year_missing"] = missing_holiday_year()
    return context


def missing_holiday_year() -> int | None:
    """From 1 November, next year's statutory holidays must be entered: return that year
    while they are not (SLA clocks running into it are provisional until then)."""
    from kefu.calendars.models import HolidayYear

    today = timezone.localdate()
    if today.month < 11:
        return None
    year = today.year + 1
    return None if HolidayYear.objects.filter(year=year).exists() else year
