"""What a ticket change tells the live pages: which groups hear of it, and what they hear.

The ticket services call one function here per change (one line each), inside their
transaction; the events leave on commit (:func:`kefu.core.realtime.send_on_commit`), so a
change that is rolled back is never announced. Events carry ids and the kind of change
only: a page that hears one fetches what it shows through its own, tenant-scoped view.

Groups (the consumers that join them are in :mod:`kefu.tickets.consumers`):
- ``ticket_group(id)``: the ticket's page — changes, new messages, and who is viewing and
  typing (presence, sent by the consumers themselves);
- ``queue_group(client_id)``: every queue page showing the client's tickets;
- ``customer_group(id)``: pages and integrations following one customer's tickets.
"""

from __future__ import annotations

from kefu.core.realtime import group_name, send_on_commit
from kefu.tickets.models import Message, Ticket


def ticket_group(ticket_id: int) -> str:
    return group_name("ticket", ticket_id)


def queue_group(client_id: int) -> str:
    return group_name("queue", client_id)


def customer_group(customer_id: int) -> str:
    return group_name("customer", customer_id)


def _followers(ticket: Ticket) -> list[str]:
    groups = [queue_group(ticket.client_id)]
    if ticket.customer_id is not None:
        groups.append(customer_group(ticket.customer_id))
    return groups


def ticket_changed(ticket: Ticket, change: str) -> None:
    """The ticket was created or changed (``change``: created, status, assigned, updated,
    escalated …): its page, its client's queues and its customer's followers hear of it."""
    groups = [ticket_group(ticket.pk), *_followers(ticket)]
    send_on_commit(groups, "ticket.changed", ticket=ticket.pk, change=change)


def message_added(ticket: Ticket, message: Message) -> None:
    """A message (inbound, reply or note) was added: the ticket's page shows it; the queues
    and the customer's followers see the ticket change (its update time moved)."""
    send_on_commit(
        [ticket_group(ticket.pk)],
        "ticket.message",
        ticket=ticket.pk,
        message=message.pk,
        direction=message.direction,
        author=message.author_id,
    )
    send_on_commit(_followers(ticket), "ticket.changed", ticket=ticket.pk, change="message")
