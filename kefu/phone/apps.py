from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "kefu.phone"
    label = "phone"
    verbose_name = "电话 / phone"
