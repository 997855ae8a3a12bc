from datetime import timedelta

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = "工单 / tickets"

    def ready(self) -> None:
        from kefu.core.jobs import job_register
        from kefu.core.metrics import metrics_register
        from kefu.privacy.parts import part_register
        from kefu.privacy.rotation import blind_index_register
        from kefu.sla.hooks import breach_action_register
        from kefu.tickets import jobs
        from kefu.tickets.customers import customer_identifier_index
        from kefu.tickets.metrics import ticket_metrics
        from kefu.tickets.models import Customer, CustomerIdentifier
        from kefu.tickets.privacy import PART
        from kefu.tickets.services import customer_index
        from kefu.tickets.tasks import on_sla_breach

        breach_action_register("tickets", on_sla_breach)
        metrics_register(name="tickets", collect=ticket_metrics)
        job_register(
            name="tickets.escalation_promises",
            every=timedelta(seconds=30),
            func=jobs.promises_sweep,
        )
        part_register(PART)
        job_register(
            name="tickets.delivery_retry", every=timedelta(seconds=30), func=jobs.delivery_retry
        )
        blind_index_register(
            model=Customer,
            fields=["phone_key", "email_key", "name_key"],
            compute=lambda customer: customer_index(customer=customer),
        )
        blind_index_register(
            model=CustomerIdentifier,
            fields=["key"],
            compute=lambda row: customer_identifier_index(identifier=row),
        )
