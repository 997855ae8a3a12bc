from datetime import timedelta

from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "时效 / SLA"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.core.metrics import metrics_register
        from kefu.sla import jobs, statutory
        from kefu.sla.metrics import sla_metrics

        job_register(name="sla.sweep", every=timedelta(seconds=30), func=jobs.sweep)
        metrics_register(name="sla", collect=sla_metrics)
        # The statutory days' sync is the calendars app's service; the recompute after it
        # is ours, so the job is registered here (calendars knows nothing of clocks).
        job_register(
            name="sla.statutory_sync",
            every=statutory.EVERY,
            func=statutory.statutory_sync_recompute,
        )
