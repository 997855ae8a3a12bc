from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "kefu.kb"
    label = "kb"
    verbose_name = "知识库 / knowledge base"
