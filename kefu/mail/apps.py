from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "kefu.mail"
    label = "mail"
    verbose_name = "邮件渠道 / email"
