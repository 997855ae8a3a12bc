from django.contrib import admin

from kefu.calendars.models import Calendar, CalendarException, HolidayYear, StatutoryDay
from kefu.core.admin import AuditedAdmin


class CalendarExceptionInline(admin.TabularInline[CalendarException, Calendar]):
    model = CalendarException
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(AuditedAdmin[Calendar]):
    list_display = ("name", "timezone", "holidays", "updated_at")
    inlines = [CalendarExceptionInline]


@admin.register(StatutoryDay)
class StatutoryDayAdmin(AuditedAdmin[StatutoryDay]):
    list_display = ("date", "kind", "name", "source")
    list_filter = ("kind", "source")
    date_hierarchy = "date"


@admin.register(HolidayYear)
class HolidayYearAdmin(AuditedAdmin[HolidayYear]):
    list_display = ("year", "source", "entered_at")
