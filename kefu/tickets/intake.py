"""The one way a customer's message comes into kefu: every channel (mail, chat, WeChat,
phone, portal, the API) turns what its transport delivered into one call of
:func:`ticket_intake`, which creates a ticket with the message or appends it to one.

Duplicates are recognised by the channel's own ids (a mail's Message-ID, a WeChat MsgId):
they are stored on the message, and a delivery retried with the same ids — by the same
process or another one at the same instant — gives back the message made the first time
and writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.models import Client
from kefu.core.prepared import PreparedQuery
from kefu.sla.models import SlaClock
from kefu.sla.selectors import ticket_clocks_active
from kefu.tickets import services
from kefu.tickets.models import Customer, Kind, Message, Priority, Ticket, channel_key


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """The customer's message, whole, as the channel delivered it.

    ``html`` is the channel's HTML as received (it is sanitised here); ``attachments`` are
    the files the channel keeps (each checked as an upload is: one refused file refuses
    the message, so a channel leaves out what it stores only raw); ``external_id`` is the
    message's id in the channel as one string (a mail's Message-ID); ``channel_ids`` are
    the ids that identify this one delivery (``{"message_id": "<…>"}``, ``{"msg_id": …}``),
    never the person's (an openid, a phone number: those find the customer, and anonymising
    the customer does not look here);
    ``at`` is when it arrived (now by default)."""

    text: str
    html: str = ""
    attachments: Sequence[File] = ()
    author_name: str = ""
    external_id: str = ""
    channel_ids: Mapping[str, str] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class IntakeResult:
    """What :func:`ticket_intake` did. ``message`` is None only for a new ticket whose
    first message had neither words nor files; ``clocks`` are the ticket's SLA clocks
    running or paused after the call; ``duplicate``: the channel ids were known, nothing was
    written and ``ticket``/``message`` are the ones made the first time;
    ``customer_created``: the new ticket's customer was created with it."""

    ticket: Ticket
    message: Message | None
    clocks: list[SlaClock]
    created: bool
    duplicate: bool = False
    customer_created: bool = False


def ticket_intake(
    *,
    client: Client,
    channel: str,
    message: Incoming,
    ticket: Ticket | None = None,
    subject: str = "",
    customer: Customer | services.CustomerData | None = None,
    kind: str = Kind.INQUIRY,
    priority: str = Priority.NORMAL,
    tags: Sequence[str] = (),
    external_id: str = "",
    actor: User | None = None,
) -> IntakeResult:
    """Append ``message`` to ``ticket``, or create a ticket for it (``subject``,
    ``customer``, ``kind``, ``priority``, ``tags`` and the ticket's ``external_id`` are for
    a new ticket only) arriving through ``channel``.

    ``actor`` is the integration or agent relaying the message (``None`` for a channel's
    own transport). Raises ValidationError for a bad subject, choice or file, or a ticket of
    another client; IntegrityError for a ticket ``external_id`` used before."""
    ids = {**message.channel_ids, "channel": channel} if message.channel_ids else {}

    def take() -> IntakeResult:
        if ticket is None:
            opened = services.ticket_open(
                client=client,
                subject=subject,
                body=message.text,
                body_html=message.html,
                channel=channel,
                actor=actor,
                kind=kind,
                priority=priority,
                customer=customer,
                author_name=message.author_name,
                tags=tags,
                external_id=external_id,
                created_at=message.at,
                attachments=message.attachments,
                channel_ids=ids,
                message_external_id=message.external_id,
            )
            return IntakeResult(
                opened.ticket,
                opened.message,
                opened.clocks,
                created=True,
                customer_created=opened.customer_created,
            )
        return _append(client, ticket, message, ids, actor)

    if not ids:
        return take()
    known = _known(client, ids)
    if known is not None:
        return _duplicate(known)
    try:
        # A savepoint: another delivery of the same message may commit first.
        with transaction.atomic():
            return take()
    except IntegrityError:
        known = _known(client, ids)
        if known is None:
            raise
        return _duplicate(known)


def _append(
    client: Client,
    ticket: Ticket,
    message: Incoming,
    ids: Mapping[str, str],
    actor: User | None,
) -> IntakeResult:
    services.require(actor, Perm.TICKET_CREATE)
    if ticket.client_id != client.pk:
        raise ValidationError({"ticket": _("工单不属于该甲方")})
    added = services.ticket_add_customer_message(
        ticket=ticket,
        body=message.text,
        body_html=message.html,
        author_name=message.author_name,
        external_id=message.external_id,
        at=message.at,
        attachments=message.attachments,
        channel_ids=ids,
    )
    return IntakeResult(ticket, added, ticket_clocks_active(ticket_id=ticket.pk), created=False)


def _known(client: Client, ids: Mapping[str, str]) -> Message | None:
    # The unique index on (client, channel_key) is partial (keys that are not empty): SQLite
    # uses it only for a query that states the same condition, and otherwise reads every
    # message of the client (bench/README.md, chat.py).
    return _BY_CHANNEL_KEY.first(client.pk, channel_key(ids))


_BY_CHANNEL_KEY = PreparedQuery(
    lambda client_id, key: (
        Message.objects.filter(client_id=client_id, channel_key=key)
        .exclude(channel_key="")
        .select_related("ticket")
        .order_by()[:1]
    )
)


def _duplicate(message: Message) -> IntakeResult:
    return IntakeResult(
        message.ticket,
        message,
        ticket_clocks_active(ticket_id=message.ticket_id),
        created=False,
        duplicate=True,
    )
