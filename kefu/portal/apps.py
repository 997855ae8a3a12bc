from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "kefu.portal"
    label = "portal"
    verbose_name = "客户门户 / portal"

    def ready(self) -> None:
        from kefu.portal.delivery import PortalAdapter
        from kefu.portal.privacy import PART
        from kefu.privacy.parts import part_register
        from kefu.tickets.channels import channel_register

        part_register(PART)
        channel_register(PortalAdapter())
