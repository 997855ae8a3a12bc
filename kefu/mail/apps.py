from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "kefu.mail"
    label = "mail"
    verbose_name = "邮件渠道 / email"

    def ready(self) -> None:
        from kefu.mail.delivery import EmailAdapter
        from kefu.tickets.channels import channel_register

        channel_register(EmailAdapter())
