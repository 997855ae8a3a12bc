from datetime import timedelta

from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "kefu.sms"
    label = "sms"
    verbose_name = "短信 / SMS"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.privacy.parts import part_register
        from kefu.sms import jobs
        from kefu.sms.privacy import PART

        part_register(PART)
        job_register(name="sms.retry", every=timedelta(seconds=30), func=jobs.retry)
