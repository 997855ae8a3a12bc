"""Breached clocks stay overdue until the event that would have met them (kefu/sla/services.py):
that event's instant is ``met_at``. Before, a clock breached by the sweeper never got it, so
here it is found in the ticket's own records, and each open ticket's ``sla_due_at`` is
recomputed to include the clocks still overdue."""

from django.db import migrations
from django.db.models import Min, Q

REPLIED = ("acknowledge", "first_response", "next_response")


def _fulfilled_at(apps, clock):
    Message = apps.get_model("tickets", "Message")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    Escalation = apps.get_model("tickets", "Escalation")
    after = Q(ticket_id=clock.ticket_id)
    candidates = []
    if clock.metric in REPLIED:
        candidates.append(
            Message.objects.filter(after, direction="out", created_at__gt=clock.started_at)
            .aggregate(at=Min("created_at"))["at"]
        )
    if clock.metric == "acknowledge":
        candidates.append(
            TicketEvent.objects.filter(after, type="status", data__old="new", at__gte=clock.started_at)
            .aggregate(at=Min("at"))["at"]
        )
    if clock.metric == "escalation":
        candidates.append(
            Escalation.objects.filter(after, created_at__gte=clock.started_at)
            .aggregate(at=Min("created_at"))["at"]
        )
    if clock.metric == "resolution":
        candidates.append(
            TicketEvent.objects.filter(
                after, type="status", data__new__in=["resolved", "closed"], at__gt=clock.started_at
            ).aggregate(at=Min("at"))["at"]
        )
    return min((c for c in candidates if c is not None), default=None)


def settle_breaches(apps, schema_editor):
    SlaClock = apps.get_model("sla", "SlaClock")
    Ticket = apps.get_model("tickets", "Ticket")
    tickets = set()
    for clock in SlaClock.objects.filter(status="breached", met_at__isnull=True).iterator(
        chunk_size=500
    ):
        at = _fulfilled_at(apps, clock)
        if at is not None:
            SlaClock.objects.filter(pk=clock.pk).update(met_at=at)
        tickets.add(clock.ticket_id)
    overdue = Q(status="running") | Q(status="breached", met_at__isnull=True)
    ids = sorted(tickets)
    for start in range(0, len(ids), 500):
        chunk = Ticket.objects.filter(
            pk__in=ids[start : start + 500], status__in=["new", "open", "pending"]
        )
        for ticket in chunk:
            due = (
                SlaClock.objects.filter(overdue, ticket_id=ticket.pk)
                .order_by("due_at")
                .values_list("due_at", flat=True)
                .first()
            )
            if due != ticket.sla_due_at:
                Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("tickets", "0008_child_rows_client_unchecked"),
    ]

    operations = [migrations.RunPython(settle_breaches, migrations.RunPython.noop)]
