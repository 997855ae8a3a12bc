from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayMode(models.TextChoices):
    CN = "cn", _("中国法定节假日与调休")
    NONE = "none", _("不适用节假日")


class Calendar(models.Model):
    """服务时间: weekly opening intervals in a time zone, statutory holidays (optional) and
    the calendar's own closed or extra days (:class:`CalendarException`).

    ``weekly`` maps ``mon``…``sun`` to interval strings such as ``["09:00-12:00",
    "13:30-18:00"]``; a day not listed is closed."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    timezone = models.CharField(_("时区"), max_length=64, default="Asia/Shanghai")
    weekly = models.JSONField(_("每周服务时间"), default=dict)
    holidays = models.CharField(
        _("节假日"), max_length=8, choices=HolidayMode.choices, default=HolidayMode.CN
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("服务时间日历")
        verbose_name_plural = _("服务时间日历")

    def __str__(self) -> str:
        return self.name


class CalendarException(models.Model):
    """A date on which this calendar differs from its week: closed (no ``hours``) or open
    with the given ``hours``."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("日期"))
    hours = models.JSONField(_("服务时间（空为休息）"), default=list, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_exception_unique")
        ]
        verbose_name = _("特殊日期")
        verbose_name_plural = _("特殊日期")

    def __str__(self) -> str:
        return f"{self.date} {'、'.join(self.hours) or '休息'}"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    WORKDAY = "workday", _("调休上班")


class StatutoryDay(models.Model):
    """A mainland-China statutory holiday or make-up working day (调休). Refreshed from
    ``chinesecalendar`` by ``kefu calendar sync``; admins may edit or add days."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("节日"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=20, default="chinesecalendar")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("法定节假日")
        verbose_name_plural = _("法定节假日")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class HolidayYear(models.Model):
    """A year whose statutory days are known (published and entered). Clocks that run into a
    year without a row here are provisional."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=20, default="chinesecalendar")
    entered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("已公布节假日的年份")
        verbose_name_plural = _("已公布节假日的年份")

    def __str__(self) -> str:
        return str(self.year)
