from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"

    def ready(self) -> None:
        from kefu.sla.hooks import breach_action_register
        from kefu.tickets.tasks import on_sla_breach

        breach_action_register("tickets", on_sla_breach)
