from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CalendarsConfig(AppConfig):
    name = "kefu.calendars"
    label = "calendars"
    verbose_name = "服务时间 / business calendars"

    def ready(self) -> None:
        from kefu.calendars.doctor import holidays
        from kefu.calendars.health import check_holidays
        from kefu.calendars.install import statutory_days_after_migrate
        from kefu.core.doctor import doctor_register
        from kefu.core.health import readiness_register

        # Next year's days are published late in the year: a warning, never unready.
        readiness_register(name="holidays", func=check_holidays, required=False)
        doctor_register(name="holidays", func=holidays)

        post_migrate.connect(
            statutory_days_after_migrate, sender=self, dispatch_uid="calendars.statutory_days"
        )
