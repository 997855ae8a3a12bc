from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kefu.contracts.models import Client, Contract, Department


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


def contract_remind_renewals(*, now: datetime | None = None) -> list[Contract]:
    """Once per contract, when its notice period before the end date begins, mail the
    provider admins and the client's supervisors that it ends (and whether it renews)."""
    from kefu.contracts import tasks

    today = timezone.localdate(now or timezone.now())
    due = []
    for contract in Contract.objects.filter(renewal_reminded_at__isnull=True, end_date__gte=today):
        if contract.end_date - timedelta(days=contract.notice_days) <= today:
            with transaction.atomic():
                won = Contract.objects.filter(
                    pk=contract.pk, renewal_reminded_at__isnull=True
                ).update(renewal_reminded_at=now or timezone.now())
                if won:
                    tasks.contract_renewal_mail.enqueue(contract.pk)
                    due.append(contract)
    return due
