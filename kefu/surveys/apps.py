from datetime import timedelta

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "kefu.surveys"
    label = "surveys"
    verbose_name = "满意度回访 / surveys"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.privacy.parts import part_register
        from kefu.surveys import jobs
        from kefu.surveys.mailing import survey_mail_send
        from kefu.surveys.privacy import PART
        from kefu.surveys.senders import portal_publish, sender_register
        from kefu.surveys.sms import survey_sms_check, survey_sms_send

        part_register(PART)
        sender_register("email", survey_mail_send)
        sender_register("portal", portal_publish)
        sender_register("sms", survey_sms_send, check=survey_sms_check)
        job_register(name="surveys.dispatch", every=timedelta(minutes=1), func=jobs.dispatch)
        job_register(
            name="surveys.callback_sample", every=timedelta(hours=1), func=jobs.weekly_sample
        )
