from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "kefu.chat"
    label = "chat"
    verbose_name = "在线客服 / live chat"

    def ready(self) -> None:
        from kefu.chat.delivery import ChatAdapter
        from kefu.chat.doctor import widgets
        from kefu.chat.jobs import register_jobs
        from kefu.chat.metrics import chat_metrics
        from kefu.chat.privacy import PART
        from kefu.core.doctor import doctor_register
        from kefu.core.metrics import metrics_register
        from kefu.privacy.parts import part_register
        from kefu.tickets.channels import channel_register

        channel_register(ChatAdapter())
        part_register(PART)
        register_jobs()
        metrics_register(name="chat", collect=chat_metrics)
        doctor_register(name="chat", func=widgets)
