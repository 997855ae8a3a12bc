from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.prepared import PreparedQuery
from kefu.sla.models import ClockStatus, SlaClock
from kefu.tickets.models import Ticket


def ticket_clocks(*, user: User, ticket: Ticket) -> list[SlaClock]:
    return list(
        SlaClock.objects.visible_to(user)
        .filter(ticket=ticket)
        .exclude(status=ClockStatus.CANCELLED)
        .select_related("target__calendar", "ticket")
        .order_by("started_at", "id")
    )


def clocks_at_risk(*, user: User, client_code: str = "", days: int = 7) -> QuerySet[SlaClock]:
    """Running clocks past their warning, and clocks breached in the last ``days``; soonest
    due (or most recently breached) first."""
    since = timezone.now() - timedelta(days=days)
    qs = SlaClock.objects.visible_to(user).filter(
        Q(status=ClockStatus.RUNNING, warned_at__isnull=False)
        | Q(status=ClockStatus.BREACHED, breached_at__gte=since)
    )
    if client_code:
        qs = qs.filter(client__code=client_code)
    return qs.select_related("ticket", "ticket__assignee", "client").order_by("status", "due_at")


def ticket_clocks_active(*, ticket_id: int) -> list[SlaClock]:
    """The ticket's running and paused clocks, oldest first (no tenant scoping: for
    services that hold the ticket already)."""
    return _ACTIVE_CLOCKS.all(ticket_id)


_ACTIVE_CLOCKS = PreparedQuery(
    lambda ticket_id: SlaClock.objects.filter(
        ticket_id=ticket_id, status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED]
    ).order_by("started_at", "id")
)
