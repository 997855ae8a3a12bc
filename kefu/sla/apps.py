from datetime import timedelta

from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "时效 / SLA"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.sla import jobs

        job_register(name="sla.sweep", every=timedelta(seconds=30), func=jobs.sweep)
