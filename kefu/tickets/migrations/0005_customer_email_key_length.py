"""email_key holds 32-character blind indexes now (0004), no longer addresses."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_customer_encrypt_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="email_key",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
    ]
