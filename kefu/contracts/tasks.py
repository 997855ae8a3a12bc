from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django_tasks import task

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.models import Contract


@task()
def contract_renewal_mail(contract_id: int) -> int:
    contract = Contract.objects.select_related("client").filter(pk=contract_id).first()
    if contract is None:
        return 0
    people = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(role=Role.ADMIN) | Q(role=Role.SUPERVISOR, clients=contract.client_id))
    )
    recipients = sorted({u.email for u in people})
    if not recipients:
        return 0
    renew = (
        "到期自动续约 / renews automatically"
        if contract.auto_renew
        else "到期终止，需续签 / ends unless renewed"
    )
    return send_mail(
        f"合同即将到期 / contract ending: {contract.number} {contract.end_date}",
        f"{contract.client.name} · {contract.title}\n{contract.start_date} – {contract.end_date}"
        f"\n{renew}\n提前通知期 / notice period: {contract.notice_days} 天 / days\n",
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
