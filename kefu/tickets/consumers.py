"""The live sockets of the ticket pages: a ticket (with presence), a queue, a customer.

Each socket is authorised as the page is: the ticket or customer must be visible to the
user (``visible_to``), a queue covers only the clients the user serves. A department user
sees only tickets escalated to it, so a queue socket checks each event's ticket for them.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.selectors import clients_visible_to
from kefu.core.realtime import EVENT, GroupConsumer
from kefu.tickets.events import customer_group, queue_group, ticket_group
from kefu.tickets.models import Customer, Ticket

TYPING_EVERY = 1.0  # seconds: a socket's typing notices are passed on at most this often
PRESENT_EVERY = 20.0  # and its "still here" (live.js says so every 30 s)


def _visible_ticket(user: User, ticket_id: int) -> bool:
    return bool(Ticket.objects.visible_to(user).filter(pk=ticket_id).exists())


class TicketConsumer(GroupConsumer):
    """``ws/tickets/<ticket_id>/``: the ticket's events, and who else has it open.

    Presence travels through the ticket's group as ``presence`` events: ``join`` when a
    page opens (every page already there answers ``here`` to the newcomer alone),
    ``typing`` while its user types a reply (the page sends ``{"type": "typing"}``),
    ``here`` again while it stays (``{"type": "present"}``), and ``leave`` when it closes.
    Several pages of one user are told apart by ``page``."""

    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        ticket_id = route["ticket_id"]
        if not _visible_ticket(user, ticket_id):
            return None
        self.user_id = user.pk
        self.user_name = str(user)
        self.group = ticket_group(ticket_id)
        self.last_typing = self.last_present = 0.0
        return [self.group]

    def _presence(self, event: str) -> dict[str, Any]:
        return {
            "type": EVENT,
            "event": {
                "type": "presence",
                "event": event,
                "user": self.user_id,
                "name": self.user_name,
                "page": self.channel_name,
            },
        }

    async def joined(self) -> None:
        await self.channel_layer.group_send(self.group, self._presence("join"))

    async def disconnect(self, code: int) -> None:
        if self.groups_joined:
            await self.channel_layer.group_send(self.group, self._presence("leave"))
        await super().disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        now = time.monotonic()
        if kind == "typing" and now - self.last_typing >= TYPING_EVERY:
            self.last_typing = now
            await self.channel_layer.group_send(self.group, self._presence("typing"))
        elif kind == "present" and now - self.last_present >= PRESENT_EVERY:
            # A page that stops saying so (its server went away without a ``leave``) drops
            # off the others' lists.
            self.last_present = now
            await self.channel_layer.group_send(self.group, self._presence("here"))

    async def relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if event["type"] != "presence":
            return event
        if event["page"] == self.channel_name:
            return None  # a page does not list itself
        if event["event"] == "join":
            await self.channel_layer.send(event["page"], self._presence("here"))
        return event


class QueueConsumer(GroupConsumer):
    """``ws/queue/`` (every client the user serves) or ``ws/clients/<code>/queue/`` (one):
    ``ticket.changed`` for each ticket created or changed there."""

    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        code = route.get("code")
        clients = clients_visible_to(user)
        if code is not None:
            clients = clients.filter(code=code)
        ids = list(clients.values_list("pk", flat=True))
        if code is not None and not ids:
            return None
        self.user = user
        self.check_each = user.role == Role.DEPARTMENT
        return [queue_group(pk) for pk in ids]

    async def relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if self.check_each and not await database_sync_to_async(_visible_ticket)(
            self.user, event["ticket"]
        ):
            return None
        return event


class CustomerConsumer(GroupConsumer):
    """``ws/customers/<customer_id>/``: ``ticket.changed`` for the customer's tickets."""

    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        customer_id = route["customer_id"]
        if not Customer.objects.visible_to(user).filter(pk=customer_id).exists():
            return None
        self.user = user
        self.check_each = user.role == Role.DEPARTMENT
        return [customer_group(customer_id)]

    relay = QueueConsumer.relay
