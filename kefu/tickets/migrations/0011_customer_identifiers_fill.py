"""Every existing customer's phones, emails and external id become identifiers.

They are marked verified, since until now each customer's first phone and email found them
whatever their source; where two customers of a client share one (two records of one
person), the older customer keeps it verified and the newer one holds it unverified, ready
to be merged. Reversing deletes the identifiers."""

from django.db import migrations

BATCH = 500


def fill(apps, schema_editor):
    from kefu.privacy.fields import key_ring

    ring = key_ring()
    Customer = apps.get_model("tickets", "Customer")
    Identifier = apps.get_model("tickets", "CustomerIdentifier")
    last = 0
    while True:
        customers = list(Customer.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not customers:
            return
        last = customers[-1].pk
        rows = []
        taken = set()  # (client id, kind, key) held verified, by an earlier customer
        for customer in customers:
            values = [("external", customer.external_key)]
            values += [("email", str(e)) for e in customer.emails or []]
            values += [("phone", str(p)) for p in customer.phones or []]
            own = set()
            for kind, value in values:
                if kind == "phone":
                    key = ring.phone_index(value)
                elif kind == "email":
                    key = ring.email_index(value)
                else:
                    key = ring.account_index(kind, value)
                if not key or (kind, key) in own:
                    continue
                own.add((kind, key))
                verified = (customer.client_id, kind, key) not in taken
                taken.add((customer.client_id, kind, key))
                rows.append(
                    Identifier(
                        client_id=customer.client_id,
                        customer_id=customer.pk,
                        kind=kind,
                        key=key,
                        value=value,
                        verified=verified,
                        created_at=customer.created_at,
                    )
                )
        earlier = Identifier.objects.filter(
            verified=True, key__in={row.key for row in rows}
        ).values_list("client_id", "kind", "key")
        held = set(earlier)
        for row in rows:
            if (row.client_id, row.kind, row.key) in held:
                row.verified = False
        Identifier.objects.bulk_create(rows, ignore_conflicts=True)


def unfill(apps, schema_editor):
    apps.get_model("tickets", "CustomerIdentifier").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_customer_identifiers")]

    operations = [migrations.RunPython(fill, unfill)]
