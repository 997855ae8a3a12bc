"""Tickets as plain data: what the API returns and ``kefu ticket show --format json`` prints.

Personal data is masked here, for every caller (kefu.privacy.masking): names, phones and
e-mails of customers, numbers in subjects, messages and escalation texts. Raw values come
only from an audited reveal (kefu.privacy.reveal)."""

from __future__ import annotations

from typing import Any

from kefu.accounts.models import User
from kefu.privacy import masking
from kefu.tickets import selectors
from kefu.tickets.models import Customer, Message, Ticket


def customer_data(customer: Customer, client_code: str | None = None) -> dict[str, Any]:
    """``client_code`` saves a query per row when the caller already knows it."""
    return {
        "id": customer.pk,
        "client": client_code or customer.client.code,
        "name": masking.name(customer.name),
        "phones": masking.customer_masked(customer, "phones"),
        "emails": masking.customer_masked(customer, "emails"),
        "external_ids": dict(customer.external_ids),
        "created_at": customer.created_at,
    }


def ticket_data(ticket: Ticket, tags: list[str] | None = None) -> dict[str, Any]:
    """Needs ``client``, ``customer``, ``assignee``, ``team`` and ``tags`` loaded (the list
    selector does that) to stay at one query per page; ``tags`` when the caller knows them
    (a ticket just created)."""
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "client": ticket.client.code,
        "subject": masking.text(ticket.subject),
        "kind": ticket.kind,
        "priority": ticket.priority,
        "status": ticket.status,
        "channel": ticket.channel,
        "customer": customer_data(ticket.customer, ticket.client.code) if ticket.customer else None,
        "assignee": ticket.assignee.username if ticket.assignee else None,
        "team": ticket.team.name if ticket.team else None,
        "tags": tags if tags is not None else sorted(t.name for t in ticket.tags.all()),
        "escalated": ticket.escalated,
        "external_id": ticket.external_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "direction": message.direction,
        "author": masking.message_author(message),
        "body_text": masking.message_text(message),
        "body_html": masking.message_html(message),
        "created_at": message.created_at,
        "attachments": [
            {
                "id": a.pk,
                "filename": masking.text(a.filename),
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in message.attachments.all()
        ],
    }


def ticket_detail_data(*, user: User, ticket: Ticket) -> dict[str, Any]:
    data = ticket_data(ticket)
    data["messages"] = [
        message_data(m) for m in selectors.ticket_conversation(user=user, ticket=ticket)
    ]
    data["events"] = [
        {"type": e.type, "actor": e.actor.username if e.actor else None, "at": e.at, "data": e.data}
        for e in selectors.ticket_history(user=user, ticket=ticket)
    ]
    data["escalations"] = [
        {
            "id": x.pk,
            "department": x.department.name,
            "status": x.status,
            "reason": masking.text(x.reason),
            "expected_by": x.expected_by,
            "answer": masking.text(x.answer),
            "created_at": x.created_at,
            "answered_at": x.answered_at,
            "warned_at": x.warned_at,
            "overdue_at": x.overdue_at,
        }
        for x in selectors.ticket_escalations(user=user, ticket=ticket)
    ]
    return data
