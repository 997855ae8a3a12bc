from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "kefu.phone"
    label = "phone"
    verbose_name = "电话 / phone"

    def ready(self) -> None:
        from kefu.phone.delivery import PhoneAdapter
        from kefu.tickets.channels import channel_register

        channel_register(PhoneAdapter())
