from datetime import timedelta

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kefu.reports"
    label = "reports"
    verbose_name = "服务报告 / reports"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.reports import jobs

        job_register(name="reports.issue_due", every=timedelta(minutes=5), func=jobs.issue_due)
