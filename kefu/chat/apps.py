from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "kefu.chat"
    label = "chat"
    verbose_name = "在线客服 / live chat"

    def ready(self) -> None:
        from kefu.chat.delivery import ChatAdapter
        from kefu.chat.jobs import register_jobs
        from kefu.tickets.channels import channel_register

        channel_register(ChatAdapter())
        register_jobs()
