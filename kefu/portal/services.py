"""Every write a portal customer makes: being found on signing in, submitting a request,
replying, closing. Each goes through the tickets services (the one intake, channel
``portal``); the portal adds only who may do it."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.portal import tasks
from kefu.portal.models import ReplyNotice, SignInMethod
from kefu.tickets import services as tickets
from kefu.tickets.customers import customer_identifier_verify
from kefu.tickets.intake import Incoming, ticket_intake
from kefu.tickets.models import (
    Channel,
    Customer,
    CustomerIdentifier,
    Delivery,
    IdentifierKind,
    Kind,
    Priority,
    Status,
    Ticket,
)

URGENT_TAG = "紧急"


def _current(customer: Customer) -> Customer:
    """The record a merged-away customer now lives in."""
    for _hop in range(10):
        if customer.merged_into_id is None:
            break
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def portal_customer_for(*, client: Client, method: str, value: str) -> Customer:
    """The customer a proved phone (``method`` sms) or email address signs in as: the one
    holding it as a verified identifier; else the one holding it unverified (an agent typed
    it), whose identifier signing in now verifies (the oldest such record, if several);
    else a new customer with it, verified. Recorded in the audit log."""
    kind = IdentifierKind.PHONE if method == SignInMethod.SMS else IdentifierKind.EMAIL
    key = tickets.identifier_index(kind, value)
    rows = list(
        CustomerIdentifier.objects.filter(client_id=client.pk, kind=kind, key=key)
        .select_related("customer")
        .order_by("-verified", "pk")
    )
    customer: Customer | None = None
    if rows and rows[0].verified:
        customer = rows[0].customer
    elif rows:
        try:
            with transaction.atomic():
                customer_identifier_verify(identifier=rows[0], actor=None)
            customer = rows[0].customer
        except ValidationError:
            # Another record took it as verified meanwhile: that one is the customer.
            held = CustomerIdentifier.objects.filter(
                client_id=client.pk, kind=kind, key=key, verified=True
            ).first()
            customer = held.customer if held is not None else None
    if customer is None:
        data = (
            tickets.CustomerData(phone=value)
            if kind == IdentifierKind.PHONE
            else tickets.CustomerData(email=value)
        )
        customer = tickets.customer_find_or_create(client=client, data=data)
    customer = _current(customer)
    audit_record(
        actor=None,
        action=AuditAction.LOGIN,
        obj=customer,
        field="portal",
        data={"method": method},
    )
    return customer


def _subject(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:60] + ("…" if len(first) > 60 else "")


def portal_request_submit(
    *,
    client: Client,
    customer: Customer,
    kind: str,
    description: str,
    urgent: bool = False,
    urgent_reason: str = "",
    attachments: Sequence[File] = (),
    submission: str = "",
) -> Ticket:
    """A new request from a signed-in customer (a portal ticket). Marked urgent (紧急) with
    a reason, it is opened at urgent priority, so the urgent response targets run, tagged
    紧急, and the reason heads its description. ``submission``: the form's one-time id; the
    same form sent twice makes one ticket. Refused (ValidationError, nothing written): no
    description, urgent without a reason, a refused file."""
    text = description.strip()
    if not text:
        raise ValidationError({"description": _("请描述您的问题 / Describe your request")})
    reason = urgent_reason.strip()
    if urgent and not reason:
        raise ValidationError({"urgent_reason": _("标记为紧急时请说明原因 / Say why it is urgent")})
    if kind not in Kind.values:
        raise ValidationError({"kind": _("请选择类型 / Choose a kind")})
    body = f"【紧急 / Urgent】{reason}\n\n{text}" if urgent else text
    result = ticket_intake(
        client=client,
        channel=Channel.PORTAL,
        message=Incoming(
            text=body,
            attachments=attachments,
            channel_ids={"submission": submission} if submission else {},
        ),
        subject=_subject(text),
        customer=customer,
        kind=kind,
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        tags=[URGENT_TAG] if urgent else (),
    )
    return result.ticket


def portal_reply(
    *,
    customer: Customer,
    ticket: Ticket,
    body: str,
    attachments: Sequence[File] = (),
    submission: str = "",
) -> None:
    """The customer writes again on one of their tickets (a resolved one reopens). Refused
    on a closed ticket (a new request is the way) or a ticket not theirs."""
    if ticket.customer_id != customer.pk:
        raise ValidationError(_("工单不存在 / No such ticket"))
    if ticket.status == Status.CLOSED:
        raise ValidationError(
            {"body": _("工单已关闭，请提交新的请求 / This ticket is closed: submit a new request")}
        )
    if not body.strip() and not attachments:
        raise ValidationError({"body": _("请填写回复内容 / Write your reply")})
    ticket_intake(
        client=ticket.client,
        channel=Channel.PORTAL,
        ticket=ticket,
        message=Incoming(
            text=body.strip(),
            attachments=attachments,
            channel_ids={"submission": submission} if submission else {},
        ),
    )


def portal_close(*, customer: Customer, ticket: Ticket) -> Ticket:
    """The customer says the matter is settled: the ticket is closed."""
    if ticket.customer_id != customer.pk:
        raise ValidationError(_("工单不存在 / No such ticket"))
    if ticket.status == Status.CLOSED:
        return ticket
    return tickets.ticket_set_status(ticket=ticket, actor=None, status=Status.CLOSED)


def reply_notice_queue(*, delivery: Delivery) -> ReplyNotice:
    """In the reply's transaction: a notice to the customer that there is a reply, sent by
    the task queue after the commit."""
    notice = ReplyNotice.objects.create(
        client_id=delivery.client_id,
        ticket_id=delivery.ticket_id,
        message_id=delivery.message_id,
        created_at=timezone.now(),
    )
    tasks.send_reply_notice.enqueue(notice.pk)
    return notice
