from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.sla.models import SlaClock

_SUBJECT = {
    "warned": "时效预警 / SLA at risk: {number} {metric}",
    "breached": "时效超时 / SLA breached: {number} {metric}",
}


@task()
def sla_notify(clock_id: int, kind: str) -> int:
    """Mail the ticket's assignee and the supervisors of its client about a warning or a
    breach. Returns the number of recipients."""
    clock = SlaClock.objects.select_related("ticket", "target").filter(pk=clock_id).first()
    if clock is None:
        return 0
    ticket = clock.ticket
    people = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(pk=ticket.assignee_id) | Q(role=Role.SUPERVISOR, clients=ticket.client_id))
    )
    recipients = sorted({u.email for u in people})
    if not recipients:
        return 0
    due = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M") if clock.due_at else "—"
    body = (
        f"{ticket.number} {ticket.subject}\n"
        f"{clock.get_metric_display()} · 到期 / due {due}\n"
        f"{settings.KEFU_BASE_URL}/tickets/{ticket.pk}/\n"
    )
    send_mail(
        _SUBJECT[kind].format(number=ticket.number, metric=clock.get_metric_display()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    return len(recipients)
