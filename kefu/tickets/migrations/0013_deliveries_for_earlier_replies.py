"""Every public reply written before deliveries existed gets one, so that the figures of
the months already served stay as they were: a reply mailed through an SMTP server keeps
its mail's outcome (sent at the instant the server took it, still pending, or failed);
any other is taken as sent at its own time, as imported history is — kefu did not record
then whether it reached the customer."""

from datetime import timedelta

from django.db import migrations

CHUNK = 2000


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Message = apps.get_model("tickets", "Message")
    Delivery = apps.get_model("tickets", "Delivery")
    OutboundMail = apps.get_model("mail", "OutboundMail")
    mails = {
        row[0]: row[1:]
        for row in OutboundMail.objects.filter(ticket_message__isnull=False).values_list(
            "ticket_message_id", "status", "sent_at", "attempts", "last_error", "message_id"
        )
    }
    replies = (
        Message.objects.filter(direction="out", delivery__isnull=True)
        .values_list("pk", "client_id", "ticket_id", "ticket__channel", "created_at")
        .order_by("pk")
    )
    batch = []
    for pk, client_id, ticket_id, channel, created_at in replies.iterator(chunk_size=CHUNK):
        mail = mails.get(pk)
        row = Delivery(
            client_id=client_id,
            ticket_id=ticket_id,
            message_id=pk,
            channel=channel,
            created_at=created_at,
        )
        if mail is None:
            row.status, row.attempts, row.accepted_at = "sent", 1, created_at
        else:
            status, sent_at, attempts, error, mail_id = mail
            row.attempts, row.reason, row.external_id = attempts, error, mail_id
            if status == "sent":
                row.status, row.accepted_at = "sent", sent_at
            elif status == "failed":
                row.status = "failed"
            else:
                # Picked up by the delivery retry (kefu.tickets.delivery), which now drives
                # the mail.
                row.status = "queued"
                row.next_attempt_at = created_at + timedelta(minutes=2**attempts)
        batch.append(row)
        if len(batch) >= CHUNK:
            Delivery.objects.bulk_create(batch)
            batch = []
    Delivery.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_delivery"), ("mail", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
