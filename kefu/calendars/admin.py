"""Calendars in the Django admin. The forms check what the YAML loader checks (one set of
rules, :mod:`kefu.calendars.validation`), so a saved calendar can always be built; every
save or delete recomputes the running SLA clocks that depend on it, through the SLA service,
inside the admin's transaction."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from kefu.calendars import services
from kefu.calendars.models import Calendar, CalendarException, HolidayYear, StatutoryDay
from kefu.calendars.validation import intervals_check, timezone_check, weekly_check
from kefu.core.admin import AuditedAdmin
from kefu.core.admin_fields import IntervalsField, WeeklyHoursField
from kefu.sla.services import sla_recompute_for_calendars


def _recompute(calendar_ids: list[int]) -> None:
    services.calendar_engine_cache_clear()
    sla_recompute_for_calendars(calendar_ids=calendar_ids)


class CalendarForm(forms.ModelForm[Calendar]):
    weekly = WeeklyHoursField(label="每周服务时间 / weekly hours")

    class Meta:
        model = Calendar
        fields = ("name", "timezone", "weekly", "holidays")

    def clean_timezone(self) -> str:
        return timezone_check(self.cleaned_data.get("timezone"))

    def clean_weekly(self) -> dict[str, list[str]]:
        return weekly_check(self.cleaned_data.get("weekly"))


class CalendarExceptionForm(forms.ModelForm[CalendarException]):
    hours = IntervalsField(label="服务时间 / hours")

    class Meta:
        model = CalendarException
        fields = ("date", "hours", "note")

    def clean_hours(self) -> list[str]:
        return intervals_check(self.cleaned_data.get("hours") or [], "hours")


class CalendarExceptionInline(admin.TabularInline[CalendarException, Calendar]):
    model = CalendarException
    form = CalendarExceptionForm
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(AuditedAdmin[Calendar]):
    form = CalendarForm
    list_display = ("name", "timezone", "holidays", "updated_at")
    inlines = [CalendarExceptionInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # After the exceptions are saved too: the clocks see the calendar as submitted.
        super().save_related(request, form, formsets, change)
        _recompute([form.instance.pk])


class StatutoryAdmin(AuditedAdmin[Any]):
    """Statutory days and entered years: each change moves the clocks of every calendar
    that follows statutory days."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _recompute(services.statutory_calendar_ids())

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        _recompute(services.statutory_calendar_ids())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            _recompute(services.statutory_calendar_ids())


@admin.register(StatutoryDay)
class StatutoryDayAdmin(StatutoryAdmin):
    list_display = ("date", "kind", "name", "source")
    list_filter = ("kind", "source")
    date_hierarchy = "date"
    readonly_fields = ("source",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # A day typed in or corrected here is the admin's: a later sync keeps it.
        obj.source = "manual"
        super().save_model(request, obj, form, change)


@admin.register(HolidayYear)
class HolidayYearAdmin(StatutoryAdmin):
    list_display = ("year", "source", "entered_at")
