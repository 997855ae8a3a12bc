"""The calendars app's readiness check: are next year's statutory days loaded?"""

from __future__ import annotations

from django.utils import timezone

from kefu.calendars.models import HolidayYear
from kefu.core.health import CheckOutcome


def check_holidays() -> CheckOutcome:
    """Next year (in the default time zone) has its statutory days entered. The State
    Council publishes them late in the year, so this is a warning, not unreadiness."""
    year = timezone.localdate().year + 1
    if HolidayYear.objects.filter(year=year).exists():
        return CheckOutcome(ok=True, detail=f"statutory days for {year} loaded")
    return CheckOutcome(ok=False, detail=f"statutory days for {year} not loaded")
