from datetime import timedelta

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "kefu.mail"
    label = "mail"
    verbose_name = "邮件渠道 / email"

    def ready(self) -> None:
        from kefu.core.doctor import doctor_register
        from kefu.core.health import readiness_register
        from kefu.core.jobs import job_register
        from kefu.mail import jobs
        from kefu.mail.delivery import EmailAdapter
        from kefu.mail.doctor import mailboxes
        from kefu.mail.health import check_mail
        from kefu.mail.privacy import PART
        from kefu.privacy.parts import part_register
        from kefu.tickets.channels import channel_register

        part_register(PART)
        channel_register(EmailAdapter())
        job_register(name="mail.outbound_retry", every=timedelta(seconds=30), func=jobs.retry)
        readiness_register(name="mail", func=check_mail, required=False)
        doctor_register(name="mail", func=mailboxes)
        job_register(name="mail.poll", every=timedelta(seconds=30), func=jobs.poll)
