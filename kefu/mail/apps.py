from datetime import timedelta

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "kefu.mail"
    label = "mail"
    verbose_name = "邮件渠道 / email"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.mail import jobs
        from kefu.mail.privacy import PART
        from kefu.privacy.parts import part_register

        part_register(PART)
        job_register(name="mail.outbound_retry", every=timedelta(seconds=30), func=jobs.retry)
        job_register(name="mail.poll", every=timedelta(seconds=30), func=jobs.poll)
