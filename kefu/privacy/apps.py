from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kefu.privacy"
    label = "privacy"
    verbose_name = "个人信息保护 / privacy"
