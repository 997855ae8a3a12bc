from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from kefu.contracts.models import Client, Department


@transaction.atomic
def client_create(*, code: str, name: str, ticket_prefix: str = "KF") -> Client:
    client = Client(code=code.strip(), name=name.strip(), ticket_prefix=ticket_prefix.strip())
    client.full_clean()
    if Client.objects.filter(code__iexact=client.code).exists():
        raise ValidationError({"code": f"client code already exists: {client.code}"})
    client.save()
    return client


@transaction.atomic
def department_create(*, client: Client, name: str, email: str = "") -> Department:
    department = Department(client=client, name=name.strip(), email=email)
    department.full_clean()
    department.save()
    return department
