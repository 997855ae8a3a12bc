from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.selectors import client_visible_by_code
from kefu.core.tenancy import get_visible_or_404
from kefu.privacy import reveal
from kefu.tickets import customers, intake, selectors, services
from kefu.tickets.models import Channel, Customer, Message
from kefu.tickets.schemas import (
    ChannelName,
    CustomerCreate,
    CustomerMerge,
    CustomerPage,
    CustomerRead,
    Error,
    KindName,
    MessageCreate,
    MessageRead,
    MessageRevealCreate,
    PriorityName,
    RevealCreate,
    RevealRead,
    Text,
    TicketCreate,
    TicketCreated,
    TicketDetail,
    TicketPage,
    TicketRead,
    TicketUpdate,
)
from kefu.tickets.serialize import (
    customer_data,
    message_data,
    ticket_brief,
    ticket_data,
    ticket_detail_data,
)

router = Router(tags=["tickets"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 422: Error}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class TicketQuery(Schema):
    client: Text = Field("", max_length=32)
    status: Text = Field("", description="a status, or 'active' for new+open+pending")
    priority: PriorityName | None = None
    kind: KindName | None = None
    channel: ChannelName | None = None
    assignee: Text = Field("", description="user id, 'me' or 'none'")
    undelivered: bool = Field(False, description="only tickets with a reply not delivered")
    q: Text = Field("", max_length=100)
    before: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(50, ge=1, le=200)


@router.get("/tickets", response={200: TicketPage, **ERRORS})
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> Any:
    filters = selectors.TicketFilters(
        client=query.client,
        status=query.status,
        priority=query.priority or "",
        kind=query.kind or "",
        channel=query.channel or "",
        assignee=query.assignee,
        undelivered=query.undelivered,
        q=query.q,
    )
    qs = selectors.ticket_list(user=_user(request), filters=filters).select_related("team")
    rows, next_before = selectors.keyset_page(
        qs.prefetch_related("tags"), before=query.before, size=query.limit
    )
    return {"items": [ticket_data(t) for t in rows], "next_before": next_before}


def _client_for(user: User, code: str) -> Any:
    client = client_visible_by_code(user, code)
    if client is None:
        raise ValidationError({"client": f"未知的甲方 / unknown client: {code}"})
    return client


@router.post("/tickets", response={200: TicketCreated, 201: TicketCreated, 409: Error, **ERRORS})
def create_ticket(request: HttpRequest, payload: TicketCreate) -> Any:
    user = _user(request)
    services.require(user, Perm.TICKET_CREATE)
    client = _client_for(user, payload.client)
    customer: Customer | services.CustomerData | None = None
    if payload.customer_id is not None:
        customer = get_visible_or_404(Customer, user, pk=payload.customer_id)
    elif payload.customer is not None:
        customer = services.CustomerData(**payload.customer.dict())
    taken = intake.ticket_intake(
        client=client,
        channel=payload.channel,
        message=intake.Incoming(text=payload.body, channel_ids=payload.channel_ids),
        subject=payload.subject,
        kind=payload.kind,
        priority=payload.priority,
        customer=customer,
        actor=user,
        tags=payload.tags,
        external_id=payload.external_id,
    )
    ticket = taken.ticket
    data = ticket_data(ticket, tags=None if taken.duplicate else sorted(set(payload.tags)))
    # A customer created with this ticket had no other ticket when it was committed.
    siblings = [] if taken.customer_created else selectors.ticket_open_siblings(ticket=ticket)
    data["open_tickets"] = [ticket_brief(t) for t in siblings]
    return Status(200 if taken.duplicate else 201, data)


@router.get("/tickets/{ticket_id}", response={200: TicketDetail, **ERRORS})
def get_ticket(request: HttpRequest, ticket_id: int) -> Any:
    user = _user(request)
    return ticket_detail_data(user=user, ticket=selectors.access_ticket(user, ticket_id))


@router.patch("/tickets/{ticket_id}", response={200: TicketRead, **ERRORS})
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketUpdate) -> Any:
    user = _user(request)
    ticket = selectors.access_ticket(user, ticket_id, Perm.TICKET_EDIT)
    with transaction.atomic():
        if (
            payload.subject is not None
            or payload.kind
            or payload.priority
            or (payload.tags is not None)
        ):
            services.ticket_update(
                ticket=ticket,
                actor=user,
                subject=payload.subject,
                kind=payload.kind,
                priority=payload.priority,
                tags=payload.tags,
            )
        if payload.assignee is not None:
            assignee = None
            if payload.assignee:
                assignee = (
                    selectors.assignable_agents(ticket=ticket)
                    .filter(username=payload.assignee)
                    .first()
                )
                if assignee is None:
                    raise ValidationError(
                        {"assignee": f"无此坐席 / no such agent: {payload.assignee}"}
                    )
            services.ticket_assign(ticket=ticket, actor=user, assignee=assignee)
        if payload.status is not None:
            services.ticket_set_status(ticket=ticket, actor=user, status=payload.status)
    return ticket_data(selectors.access_ticket(user, ticket_id))


@router.post(
    "/tickets/{ticket_id}/messages", response={200: MessageRead, 201: MessageRead, **ERRORS}
)
def add_message(request: HttpRequest, ticket_id: int, payload: MessageCreate) -> Any:
    user = _user(request)
    ticket = selectors.access_ticket(user, ticket_id)
    if payload.direction == "out":
        message = services.ticket_reply(
            ticket=ticket,
            actor=user,
            body=payload.body,
            new_status=payload.new_status,
            channel_data=payload.channel_data,
        )
    elif payload.direction == "note":
        message = services.ticket_add_note(ticket=ticket, actor=user, body=payload.body)
    else:
        # An integration relaying the customer's words (e.g. a CRM form): agents' rights.
        taken = intake.ticket_intake(
            client=ticket.client,
            channel=Channel.API,
            ticket=ticket,
            message=intake.Incoming(text=payload.body, channel_ids=payload.channel_ids),
            actor=user,
        )
        assert taken.message is not None
        if taken.duplicate:
            return Status(200, message_data(taken.message))
        message = taken.message
    return Status(201, message_data(message))


class CustomerQuery(Schema):
    client: Text = Field("", max_length=32)
    # Exact match only (after normalising): the values are encrypted, looked up by index.
    phone: Text = Field("", max_length=64)
    email: Text = Field("", max_length=254)
    before: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(50, ge=1, le=200)


@router.get("/customers", response={200: CustomerPage, **ERRORS}, tags=["customers"])
def list_customers(request: HttpRequest, query: Query[CustomerQuery]) -> Any:
    qs = selectors.customer_list(
        user=_user(request), client=query.client, phone=query.phone, email=query.email
    )
    rows, next_before = selectors.keyset_page(qs, before=query.before, size=query.limit)
    return {"items": [customer_data(c) for c in rows], "next_before": next_before}


@router.post("/customers", response={201: CustomerRead, 409: Error, **ERRORS}, tags=["customers"])
def create_customer(request: HttpRequest, payload: CustomerCreate) -> Any:
    user = _user(request)
    services.require(user, Perm.CUSTOMER_EDIT)
    client = _client_for(user, payload.client)
    data = payload.dict()
    data.pop("client")
    customer = services.customer_create(client=client, data=services.CustomerData(**data))
    return Status(201, customer_data(customer))


@router.get("/customers/{customer_id}", response={200: CustomerRead, **ERRORS}, tags=["customers"])
def get_customer(request: HttpRequest, customer_id: int) -> Any:
    return customer_data(selectors.access_customer(_user(request), customer_id))


@router.post(
    "/customers/{customer_id}/merge",
    response={200: CustomerRead, **ERRORS},
    tags=["customers"],
    summary="Merge this customer into another (audited)",
)
def merge_customer(request: HttpRequest, customer_id: int, payload: CustomerMerge) -> Any:
    """Two records of one person of one client: this one's tickets, identifiers, phones,
    emails and external ids move to ``into``, and this one stays as a tombstone
    (``merged_into``). Supervisors and provider admins; returns the customer kept."""
    user = _user(request)
    services.require(user, Perm.CUSTOMER_MERGE)
    source = selectors.access_customer(user, customer_id)
    target = selectors.access_customer(user, payload.into)
    kept = customers.customer_merge(
        source=source, target=target, actor=user, reason=payload.reason, request=request
    )
    return customer_data(kept)


@router.post(
    "/customers/{customer_id}/reveal",
    response={200: RevealRead, **ERRORS},
    tags=["customers"],
    summary="Reveal one customer field (audited)",
)
def reveal_customer(
    request: HttpRequest, response: HttpResponse, customer_id: int, payload: RevealCreate
) -> Any:
    """Customer data is masked everywhere else. A role with the field's reveal permission
    gets the raw values here, once, with a reason written to the audit log."""
    user = _user(request)
    customer = selectors.access_customer(user, customer_id)
    values = reveal.customer_reveal(
        user=user, customer=customer, field=payload.field, reason=payload.reason, request=request
    )
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "values": values}


@router.post(
    "/tickets/{ticket_id}/messages/{message_id}/reveal",
    response={200: RevealRead, **ERRORS},
    summary="Reveal a message's unmasked text (audited)",
)
def reveal_message(
    request: HttpRequest,
    response: HttpResponse,
    ticket_id: int,
    message_id: int,
    payload: MessageRevealCreate,
) -> Any:
    user = _user(request)
    ticket = selectors.access_ticket(user, ticket_id)
    message = get_visible_or_404(Message, user, pk=message_id, ticket=ticket)
    text = reveal.message_reveal(user=user, message=message, reason=payload.reason, request=request)
    response["Cache-Control"] = "no-store"
    return {"field": "body_text", "values": [text]}
