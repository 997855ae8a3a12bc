from datetime import timedelta

from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "kefu.contracts"
    label = "contracts"
    verbose_name = "甲方与合同 / clients and contracts"

    def ready(self) -> None:
        from kefu.contracts import jobs
        from kefu.core.jobs import job_register

        job_register(
            name="contracts.renewal_reminders",
            every=timedelta(minutes=10),
            func=jobs.renewal_reminders,
        )
