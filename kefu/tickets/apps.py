from datetime import timedelta

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.privacy.parts import part_register
        from kefu.privacy.rotation import blind_index_register
        from kefu.sla.hooks import breach_action_register
        from kefu.tickets import jobs
        from kefu.tickets.models import Customer
        from kefu.tickets.privacy import PART
        from kefu.tickets.services import customer_index
        from kefu.tickets.tasks import on_sla_breach

        breach_action_register("tickets", on_sla_breach)
        job_register(
            name="tickets.escalation_promises",
            every=timedelta(seconds=30),
            func=jobs.promises_sweep,
        )
        part_register(PART)
        blind_index_register(
            model=Customer,
            fields=["phone_key", "email_key", "name_key"],
            compute=lambda customer: customer_index(customer=customer),
        )
