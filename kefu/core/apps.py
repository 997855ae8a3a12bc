from datetime import timedelta

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = "系统 / system"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django_tasks.signals import task_finished, task_started

        import kefu.core.health  # noqa: F401  (registers core's readiness checks)
        from kefu.core import doctor_checks, log, metrics, task_metrics
        from kefu.core.backup.schedule import LEASE, backup_every_parse, backup_scheduled
        from kefu.core.jobs import job_prune_results, job_register

        job_register(
            name="core.prune_job_results", every=timedelta(hours=1), func=job_prune_results
        )
        metrics.metrics_register(name="tasks", collect=task_metrics.task_queue_metrics)
        metrics.metrics_install()
        doctor_checks.register()
        task_started.connect(log.task_log_started, dispatch_uid="kefu.core.log.task_started")
        task_finished.connect(log.task_log_finished, dispatch_uid="kefu.core.log.task_finished")
        request_finished.connect(log.request_context_end, dispatch_uid="kefu.core.log.request_end")
        if settings.KEFU_BACKUP_DIR:
            try:
                every = backup_every_parse(settings.KEFU_BACKUP_EVERY)
            except ValueError as exc:
                raise ImproperlyConfigured(f"定时备份 / scheduled backup: {exc}") from exc
            if settings.KEFU_BACKUP_KEEP < 1:
                raise ImproperlyConfigured("KEFU_BACKUP_KEEP 至少为 1 / must be at least 1")
            job_register(name="core.backup", every=every, func=backup_scheduled, lease=LEASE)
