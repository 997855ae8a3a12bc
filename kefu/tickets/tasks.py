"""Background work for tickets. Thin: load by id, render and send, or call a service.

tickets.services enqueues this module's tasks and the tasks call it back, so each imports
the other as a module (``from kefu.tickets import services``), never a name from it."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from kefu.accounts.models import NotificationKind, User
from kefu.accounts.services import notification_create
from kefu.sla.hooks import Breach
from kefu.tickets import delivery, services
from kefu.tickets.models import Escalation, EscalationStatus, Ticket

_SUBJECTS = {
    "assigned": "工单已分派给你 / Ticket assigned to you: {number}",
    "escalation_answered": "甲方部门已答复 / Department answered: {number}",
    "escalation_info_asked": "甲方部门要求补充信息 / Department asks for information: {number}",
    "escalation_returned": "甲方部门退回升级 / Department returned the escalation: {number}",
}


@task()
def notify_user(user_id: int, reason: str, ticket_id: int) -> int:
    """Tell a provider user about a ticket: in the app (the bell) and by email; returns the
    number of mails sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if user is None or ticket is None:
        return 0
    _notify_in_app(user=user, kind=reason, ticket=ticket)
    if not user.email:
        return 0
    with translation.override(user.language):
        body = render_to_string(
            "tickets/mail/notify_user.txt",
            {"user": user, "ticket": ticket, "reason": reason, "base_url": settings.KEFU_BASE_URL},
        )
    return send_mail(
        _SUBJECTS[reason].format(number=ticket.number),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


def _notify_in_app(*, user: User, kind: str, ticket: Ticket) -> None:
    """The bell's notification about ``ticket``, in the user's language. It names the
    ticket by its number only: a copy of the subject would outlive the ticket's own
    anonymisation or deletion."""
    with translation.override(user.language):
        text = f"{NotificationKind(kind).label}: {ticket.number}"
    url = reverse("tickets:detail", args=[ticket.pk])
    notification_create(user=user, client_id=ticket.client_id, kind=kind, text=text, url=url)


@task()
def notify_department(escalation_id: int) -> int:
    """Email the department's members (and its shared address) about a new escalation."""
    escalation = (
        Escalation.objects.select_related("ticket", "department").filter(pk=escalation_id).first()
    )
    if escalation is None:
        return 0
    members = escalation.department.members.filter(is_active=True).exclude(email="")
    recipients = sorted({u.email for u in members} | {escalation.department.email} - {""})
    if not recipients:
        return 0
    body = render_to_string(
        "tickets/mail/notify_department.txt",
        {"escalation": escalation, "ticket": escalation.ticket, "base_url": settings.KEFU_BASE_URL},
    )
    return send_mail(
        f"客服升级 / Escalation: {escalation.ticket.number} {escalation.ticket.subject}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )


def on_sla_breach(breach: Breach) -> None:
    """Registered with :mod:`kefu.sla.hooks`: a breach that raises the priority enqueues
    :func:`raise_priority_on_breach` (committed with the breach)."""
    if breach.raise_priority:
        raise_priority_on_breach.enqueue(
            breach.ticket_id, f"SLA {breach.metric} breached", breach.at.isoformat()
        )


@task()
def raise_priority_on_breach(ticket_id: int, reason: str, at: str) -> str:
    """Raise a breached ticket's priority one step; returns the priority it now has."""
    with transaction.atomic():
        # Locked: an agent changing the priority meanwhile is not overwritten.
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None:
            return ""
        raised = services.ticket_raise_priority(
            ticket=ticket, reason=reason, at=datetime.fromisoformat(at)
        )
    return str(raised.priority)


_PROMISE_SUBJECTS = {
    "warned": "升级即将逾期 / Escalation due soon: {number} {dept}",
    "overdue": "升级已逾期 / Escalation overdue: {number} {dept}",
}


@task()
def notify_escalation_promise(escalation_id: int, kind: str) -> int:
    """Warn (``kind`` "warned") or tell (``kind`` "overdue") the department (members and
    shared address) and the ticket's agent (the assignee and whoever escalated) that the
    completion time promised to the customer is near or has passed. Nothing is sent once
    the escalation is answered. Returns the number of recipients."""
    escalation = (
        Escalation.objects.select_related("ticket", "department")
        .filter(pk=escalation_id, status=EscalationStatus.OPEN)
        .first()
    )
    if escalation is None:
        return 0
    ticket = escalation.ticket
    members = escalation.department.members.filter(is_active=True).exclude(email="")
    agents = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(pk=ticket.assignee_id) | Q(pk=escalation.requested_by_id))
    )
    recipients = sorted(
        {u.email for u in [*members, *agents]} | {escalation.department.email} - {""}
    )
    if not recipients:
        return 0
    body = render_to_string(
        "tickets/mail/escalation_promise.txt",
        {
            "escalation": escalation,
            "ticket": ticket,
            "kind": kind,
            "base_url": settings.KEFU_BASE_URL,
        },
    )
    send_mail(
        _PROMISE_SUBJECTS[kind].format(number=ticket.number, dept=escalation.department.name),
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    return len(recipients)


@task()
def send_delivery(delivery_id: int) -> str:
    """Hand one reply to its channel's transport; returns its status (sent, queued for a
    retry, failed)."""
    return delivery.delivery_send(delivery_id=delivery_id)
