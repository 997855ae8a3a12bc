# Indexes for the monthly KPIs (kefu.reports.selectors): a period's tickets by creation and
# by first resolution, and a ticket's replies.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_apitoken_scope_expiry"),
        ("contracts", "0003_contract_payment_milestones_and_more"),
        ("tickets", "0005_customer_email_key_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["ticket", "direction", "created_at"], name="message_ticket_direction"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["client", "created_at"], name="ticket_client_created"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["client", "first_resolved_at"], name="ticket_client_resolved"
            ),
        ),
    ]
