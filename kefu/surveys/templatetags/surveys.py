"""``{% survey_link ticket as link %}``: the ticket's survey link while it can be answered
(for the portal's ticket page), else None."""

from __future__ import annotations

from django import template

from kefu.surveys.selectors import survey_link_for_ticket
from kefu.tickets.models import Ticket

register = template.Library()


@register.simple_tag
def survey_link(ticket: Ticket) -> str | None:
    return survey_link_for_ticket(ticket)
