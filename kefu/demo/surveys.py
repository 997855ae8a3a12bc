"""The demo's surveys and callbacks as kefu makes them live (the history's surveys are
imported): the latest resolved email tickets of each client without a survey (up to three,
customers with an email address) get theirs by mail (written to the mail outbox, links
answerable on the demo server), recent low scores have their callback tasks, and last
week's phone sample is drawn."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.contracts.models import Client
from kefu.surveys.models import Survey, SurveyStatus
from kefu.surveys.selectors import rule_for
from kefu.surveys.services import (
    callback_sample_due,
    survey_create_for_ticket,
    survey_followup,
    survey_send,
)
from kefu.tickets.models import IdentifierKind, Status, Ticket

SURVEY_MAILS = 3
RECENT = timedelta(days=14)


def demo_surveys(*, client: Client, now: datetime) -> int:
    """Send the client's demo survey mails and open the callbacks of its recent low scores;
    returns how many surveys were sent."""
    rule = rule_for(client.pk, now)
    sent = 0
    if rule is not None:
        latest = (
            Ticket.objects.filter(
                client=client,
                channel="email",
                status__in=[Status.RESOLVED, Status.CLOSED],
                first_resolved_at__lte=now - timedelta(minutes=rule.delay_minutes),
                # a customer kefu can mail (the address itself is encrypted)
                customer__identifiers__kind=IdentifierKind.EMAIL,
            )
            .exclude(surveys__isnull=False)
            .distinct()
            .order_by("-first_resolved_at")[:SURVEY_MAILS]
        )
        for ticket in latest:
            survey = survey_create_for_ticket(ticket=ticket, rule=rule, now=now)
            if survey is not None:
                sent += survey_send(survey_id=survey.pk, now=now) == SurveyStatus.SENT
    low = Survey.objects.filter(
        client=client, answered_at__gte=now - RECENT, score__isnull=False, ticket__isnull=False
    )
    for survey in low.order_by("answered_at"):
        survey_followup(survey=survey)
    return sent


def demo_callback_sample(*, now: datetime) -> int:
    return callback_sample_due(now=now)
