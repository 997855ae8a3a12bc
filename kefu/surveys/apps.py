from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "kefu.surveys"
    label = "surveys"
    verbose_name = "满意度回访 / surveys"

    def ready(self) -> None:
        from kefu.privacy.parts import part_register
        from kefu.surveys.privacy import PART

        part_register(PART)
