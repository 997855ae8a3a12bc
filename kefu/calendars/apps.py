from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "kefu.calendars"
    label = "calendars"
    verbose_name = "服务时间 / business calendars"
