"""Customer name, phones and emails become encrypted columns (text) and name_key is added;
0004 converts the rows, 0005 narrows email_key. Three migrations, not one: on PostgreSQL a
table rewritten by ALTER and then updated in the same transaction cannot be altered again
("pending trigger events")."""

from django.db import migrations, models

import kefu.privacy.fields


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_ticket_sla_due_at_alter_ticketevent_type_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="name_key",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="customer",
            name="name",
            field=kefu.privacy.fields.EncryptedTextField(
                blank=True, max_length=200, verbose_name="姓名"
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="phones",
            field=kefu.privacy.fields.EncryptedJSONField(
                blank=True, default=list, verbose_name="电话"
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="emails",
            field=kefu.privacy.fields.EncryptedJSONField(
                blank=True, default=list, verbose_name="邮箱"
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="phone_key",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
    ]
