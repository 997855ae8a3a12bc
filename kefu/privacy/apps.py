from datetime import timedelta

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kefu.privacy"
    label = "privacy"
    verbose_name = "个人信息保护 / privacy"

    def ready(self) -> None:
        from kefu.core.doctor import doctor_register
        from kefu.core.jobs import job_register
        from kefu.privacy import jobs
        from kefu.privacy.doctor import keys

        job_register(name="privacy.retention", every=timedelta(seconds=30), func=jobs.retention)
        doctor_register(name="field_keys", func=keys)
