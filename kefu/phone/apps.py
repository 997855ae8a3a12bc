from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "kefu.phone"
    label = "phone"
    verbose_name = "电话 / phone"

    def ready(self) -> None:
        from kefu.phone.privacy import PART
        from kefu.privacy.parts import part_register

        part_register(PART)
