"""Reads of surveys and callbacks shared by pages, the portal and reports."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.models import Client
from kefu.surveys.links import survey_path
from kefu.surveys.models import (
    CallbackKind,
    CallbackTask,
    Survey,
    SurveyOrigin,
    SurveyRule,
    SurveyStatus,
)
from kefu.tickets.models import Ticket


def rule_for(client_id: int, at: datetime) -> SurveyRule | None:
    """The active survey rule of the client's contract in force at ``at`` (the latest
    contract that had started by then and had not ended)."""
    day = timezone.localdate(at)
    return (
        SurveyRule.objects.filter(
            client_id=client_id,
            active=True,
            contract__start_date__lte=day,
            contract__end_date__gte=day,
        )
        .select_related("contract__service_calendar", "client")
        .order_by("-contract__start_date")
        .first()
    )


def survey_open_for_ticket(ticket: Ticket, *, at: datetime | None = None) -> Survey | None:
    """The ticket's survey the customer may still answer by link: sent, unanswered, not
    expired."""
    at = at or timezone.now()
    return (
        Survey.objects.filter(
            ticket=ticket,
            origin=SurveyOrigin.RESOLUTION,
            status=SurveyStatus.SENT,
            answered_at__isnull=True,
            expires_at__gt=at,
        )
        .exclude(channel="chat")
        .first()
    )


def survey_link_for_ticket(ticket: Ticket) -> str | None:
    """For the portal: the path of the ticket's survey link while the customer may answer
    it, else ``None`` (no survey, answered, expired, or not sent)."""
    survey = survey_open_for_ticket(ticket)
    return survey_path(survey.pk) if survey is not None else None


def callbacks_visible_to(user: User) -> QuerySet[CallbackTask]:
    """Callback tasks of the user's clients: low-score callbacks for supervisors (and
    admins), the weekly sample's calls for everyone who works tickets."""
    tasks = CallbackTask.objects.visible_to(user)
    if not user.has_kefu_perm(Perm.OVERVIEW_VIEW):
        tasks = tasks.filter(kind=CallbackKind.SAMPLE)
    if not user.has_kefu_perm(Perm.TICKET_REPLY):
        return tasks.none()
    return tasks


STATES = ("open", "overdue", "done", "all")


def callbacks_in_state(
    tasks: QuerySet[CallbackTask], state: str, *, at: datetime | None = None
) -> QuerySet[CallbackTask]:
    """``open`` (not done, due later), ``overdue`` (not done, due passed), ``done``."""
    at = at or timezone.now()
    if state == "open":
        return tasks.filter(done_at__isnull=True, due_at__gt=at)
    if state == "overdue":
        return tasks.filter(done_at__isnull=True, due_at__lte=at)
    if state == "done":
        return tasks.filter(done_at__isnull=False).order_by("-done_at")
    return tasks


def callback_counts(tasks: QuerySet[CallbackTask], *, at: datetime | None = None) -> dict[str, int]:
    at = at or timezone.now()
    return tasks.aggregate(
        open=Count("id", filter=Q(done_at__isnull=True, due_at__gt=at)),
        overdue=Count("id", filter=Q(done_at__isnull=True, due_at__lte=at)),
        done=Count("id", filter=Q(done_at__isnull=False)),
    )


def client_rules(client: Client) -> QuerySet[SurveyRule]:
    return SurveyRule.objects.filter(client=client).select_related("contract")
