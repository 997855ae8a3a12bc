"""What a portal page reads: its site, and a signed-in customer's own tickets and their
public conversation. A customer reaches only tickets whose customer they are; anything
else (another customer's ticket, another client's, a number that does not exist) is the
same 404."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.portal.models import PortalSite
from kefu.tickets.models import Attachment, Customer, Direction, Message, Ticket

_HOSTS: dict[str, str] = {}
_HOSTS_READ_AT = 0.0
HOSTS_TTL = 30.0  # seconds a host name change takes to apply in a running process


def site_for_code(code: str) -> PortalSite:
    site = (
        PortalSite.objects.filter(client__code=code, enabled=True, client__is_active=True)
        .select_related("client")
        .first()
    )
    if site is None:
        raise Http404("no portal")
    return site


def site_hosts_stale() -> bool:
    return time.monotonic() - _HOSTS_READ_AT > HOSTS_TTL


def site_hosts_read() -> None:
    """Read the enabled portals' host names (one query)."""
    global _HOSTS_READ_AT
    hosts = dict(
        PortalSite.objects.filter(enabled=True).exclude(host="").values_list("host", "client__code")
    )
    _HOSTS.clear()
    _HOSTS.update(hosts)
    _HOSTS_READ_AT = time.monotonic()


def site_code_for_host(host: str) -> str | None:
    """The client code of the enabled portal at this host name, if any, as last read
    (:func:`site_hosts_read`, every ``HOSTS_TTL`` seconds: no query on most requests)."""
    return _HOSTS.get(host.lower())


def site_hosts_forget() -> None:
    """Read the host names again on the next request (after a change, in tests)."""
    global _HOSTS_READ_AT
    _HOSTS_READ_AT = 0.0


def customer_of(site: PortalSite, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = Customer.objects.filter(pk=customer_id, client_id=site.client_id).first()
    if customer is None or customer.merged_into_id is not None:
        return None
    return customer


def customer_tickets(customer: Customer) -> QuerySet[Ticket]:
    """Every ticket of the customer, from any channel, newest first."""
    return Ticket.objects.filter(client_id=customer.client_id, customer_id=customer.pk).order_by(
        "-created_at", "-id"
    )


def customer_ticket_or_404(customer: Customer, number: str) -> Ticket:
    ticket = customer_tickets(customer).filter(number=number).select_related("client").first()
    if ticket is None:
        raise Http404("no such ticket")
    return ticket


@dataclass(frozen=True)
class PublicMessage:
    """One message as the customer sees it: who (themselves, or the service side under a
    name the portal allows), when, the text and the files."""

    id: int
    mine: bool
    author: str
    text: str
    created_at: object
    attachments: list[Attachment]


def public_messages(site: PortalSite, ticket: Ticket) -> list[PublicMessage]:
    """The ticket's conversation without internal notes; agents named only where the
    client allows it."""
    rows = (
        Message.objects.filter(ticket=ticket)
        .exclude(direction=Direction.NOTE)
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    out = []
    for m in rows:
        mine = m.direction == Direction.INBOUND
        if mine:
            author = _("我 / Me")
        elif site.hide_agent_names or not m.author_name:
            author = _("客服 / Service agent")
        else:
            author = m.author_name
        out.append(
            PublicMessage(m.pk, mine, author, m.body_text, m.created_at, list(m.attachments.all()))
        )
    return out


def customer_attachment_or_404(
    customer: Customer, ticket: Ticket, attachment_id: int
) -> Attachment:
    attachment = (
        Attachment.objects.filter(pk=attachment_id, ticket=ticket, ticket__customer_id=customer.pk)
        .exclude(message__direction=Direction.NOTE)
        .first()
    )
    if attachment is None:
        raise Http404("no such file")
    return attachment
