from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "kefu.contracts"
    label = "contracts"
