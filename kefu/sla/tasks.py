from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from kefu.accounts.models import NotificationKind, User
from kefu.accounts.roles import Role
from kefu.accounts.services import notification_create
from kefu.sla.models import SlaClock

_SUBJECT = {
    "warned": "时效预警 / SLA at risk: {number} {metric}",
    "breached": "时效超时 / SLA breached: {number} {metric}",
}


def _notify_in_app(user: User, clock: SlaClock, kind: str) -> None:
    """The bell's notification beside the mail, in the user's language; the ticket by its
    number only (no copy of its subject outlives the ticket's anonymisation)."""
    ticket = clock.ticket
    note_kind = NotificationKind.SLA_WARNING if kind == "warned" else NotificationKind.SLA_BREACH
    with translation.override(user.language):
        text = f"{note_kind.label} · {clock.get_metric_display()}: {ticket.number}"
    notification_create(
        user=user,
        client_id=ticket.client_id,
        kind=note_kind,
        text=text,
        url=reverse("tickets:detail", args=[ticket.pk]),
    )


@task()
def sla_notify(clock_id: int, kind: str) -> int:
    """Tell the ticket's assignee and the supervisors of its client about a warning or a
    breach: in the app (the bell) and by mail. Returns the number of mail recipients."""
    clock = SlaClock.objects.select_related("ticket", "target").filter(pk=clock_id).first()
    if clock is None:
        return 0
    ticket = clock.ticket
    people = (
        User.objects.filter(is_active=True)
        .filter(Q(pk=ticket.assignee_id) | Q(role=Role.SUPERVISOR, clients=ticket.client_id))
        .distinct()
    )
    for person in people:
        _notify_in_app(person, clock, kind)
    recipients = sorted({u.email for u in people if u.email})
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
