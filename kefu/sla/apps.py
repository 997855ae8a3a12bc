from datetime import timedelta

from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "时效 / SLA"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.sla import jobs, statutory

        job_register(name="sla.sweep", every=timedelta(seconds=30), func=jobs.sweep)
        # The statutory days' sync is the calendars app's service; the recompute after it
        # is ours, so the job is registered here (calendars knows nothing of clocks).
        job_register(
            name="sla.statutory_sync",
            every=statutory.EVERY,
            func=statutory.statutory_sync_recompute,
        )
