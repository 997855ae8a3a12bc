"""Every write on tickets. Each function is one use case: it validates, writes, records the
ticket event in the same transaction and schedules side effects on commit."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import cache, reduce
from typing import Any

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Perm, Role
from kefu.contracts.models import Client, Department
from kefu.core.prepared import PreparedInsert, PreparedQuery
from kefu.privacy.fields import (
    email_index,
    external_id_index,
    name_index,
    phone_index,
    portal_account_index,
    wechat_openid_index,
    wechat_unionid_index,
)
from kefu.sla import services as sla
from kefu.sla.models import SlaClock
from kefu.tickets import events, promises, tasks, validation
from kefu.tickets.attachments import CheckedUpload, attachments_check
from kefu.tickets.channels import transport_problem
from kefu.tickets.delivery import delivery_queue
from kefu.tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Channel,
    Customer,
    CustomerIdentifier,
    Direction,
    Escalation,
    EscalationStatus,
    EventType,
    IdentifierKind,
    Kind,
    Message,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    channel_key,
)
from kefu.tickets.numbering import ticket_number_assign, ticket_number_placeholder
from kefu.tickets.workflow import STATUS_TRANSITIONS


def require(user: User | None, perm: Perm) -> None:
    """System work (``user=None``: a channel, the importer) is always allowed."""
    if user is not None and not user.has_kefu_perm(perm):
        raise PermissionDenied(_("你没有执行此操作的权限。"))


def sanitize_html(html: str) -> str:
    return nh3.clean(html) if html else ""


# Every ticket, message and history entry is one INSERT whose SQL is written once
# (kefu/core/prepared.py).
_NEW_TICKET = PreparedInsert(Ticket)
_NEW_MESSAGE = PreparedInsert(Message)
_NEW_EVENT = PreparedInsert(TicketEvent)
# A new customer from a channel or the API: the customer, then its identifiers (one INSERT
# for all, skipping a key another customer took meanwhile).
_NEW_CUSTOMER = PreparedInsert(Customer)
_NEW_IDENTIFIERS = PreparedInsert(CustomerIdentifier, ignore_conflicts=True)


def _event(
    ticket: Ticket, type_: str, actor: User | None, at: datetime, **data: Any
) -> TicketEvent:
    return _NEW_EVENT.create(
        client_id=ticket.client_id, ticket=ticket, type=type_, actor=actor, at=at, data=data
    )


@dataclass(frozen=True, kw_only=True)
class CustomerData:
    """A customer's details as one channel, integration or agent gave them.

    ``verified`` says which of the identifiers (phone, email, WeChat ids, portal account,
    external id) are vouched for, and so may find the customer again:

    - ``True`` (the default): all of them. They came with the message through the
      transport that vouches for them (the sender of a mail, the caller id of a call, the
      openid/unionid of a WeChat message, the login of the portal) or from the client's
      own system (an integration through the API, a history import).
    - ``False``: none. An agent typed them (the new-ticket page): they are kept as
      unverified identifiers, which find nobody until confirmed
      (:func:`kefu.tickets.customers.customer_identifier_verify`).
    - a set of :class:`~kefu.tickets.models.IdentifierKind` values: only those (a mail's
      sender address, not the phone number read from its signature).
    """

    name: str = ""
    phone: str = ""
    email: str = ""
    external_id: str = ""
    wechat_openid: str = ""
    wechat_unionid: str = ""
    portal_account: str = ""
    verified: bool | frozenset[str] = True

    def identifiers(self) -> list[NewIdentifier]:
        """The identifiers given, most telling first (the order a match is chosen by)."""
        given = [
            (IdentifierKind.EXTERNAL, self.external_id.strip()),
            (IdentifierKind.WECHAT_UNIONID, self.wechat_unionid.strip()),
            (IdentifierKind.WECHAT_OPENID, self.wechat_openid.strip()),
            (IdentifierKind.PORTAL, self.portal_account.strip()),
            (IdentifierKind.EMAIL, self.email.strip().lower()),
            (IdentifierKind.PHONE, self.phone.strip()),
        ]
        out = []
        for kind, value in given:
            key = identifier_index(kind, value) if value else ""
            if key:
                verified = (
                    self.verified if isinstance(self.verified, bool) else kind in self.verified
                )
                out.append(NewIdentifier(kind=kind, key=key, value=value, verified=verified))
        return out


@dataclass(frozen=True, kw_only=True)
class NewIdentifier:
    kind: str
    key: str
    value: str
    verified: bool


_INDEX_OF_KIND: dict[str, Callable[[str], str]] = {
    IdentifierKind.PHONE: phone_index,
    IdentifierKind.EMAIL: email_index,
    IdentifierKind.WECHAT_OPENID: wechat_openid_index,
    IdentifierKind.WECHAT_UNIONID: wechat_unionid_index,
    IdentifierKind.PORTAL: portal_account_index,
    IdentifierKind.EXTERNAL: external_id_index,
}


def identifier_index(kind: str, value: str) -> str:
    """The blind index of ``value`` as an identifier of ``kind`` (``""`` for no value)."""
    return _INDEX_OF_KIND[kind](value)


@dataclass(frozen=True)
class CustomerMatch:
    """What :func:`customer_lookup` found: the customer (or ``None``), the identifiers that
    were given, and the client's identifier rows with any of their keys."""

    customer: Customer | None
    given: tuple[NewIdentifier, ...]
    held: tuple[CustomerIdentifier, ...]


def customer_lookup(*, client: Client, data: CustomerData) -> CustomerMatch:
    """The client's customer holding one of the given identifiers as *verified*; if several
    customers do, the one holding the most telling (external id, then WeChat unionid,
    openid, portal account, email, phone). One query, whatever was given."""
    given = tuple(data.identifiers())
    if not given:
        return CustomerMatch(None, given, ())
    held = tuple(
        _IDENTIFIERS_BY_KEYS.all(
            client.pk, *(g.key for g in given), shape=tuple(g.kind for g in given)
        )
    )
    verified = {(row.kind, row.key): row for row in held if row.verified}
    for g in given:
        row = verified.get((g.kind, g.key))
        if row is not None:
            return CustomerMatch(row.customer, given, held)
    return CustomerMatch(None, given, held)


def customer_find(*, client: Client, data: CustomerData) -> Customer | None:
    """The client's customer with one of these identifiers, verified (see
    :func:`customer_lookup`); an unverified identifier (typed by an agent) finds nobody."""
    return customer_lookup(client=client, data=data).customer


def _identifiers_by_keys(client_id: int, *keys: str, shape: Sequence[str]) -> Any:
    matches = [Q(kind=kind, key=key) for kind, key in zip(shape, keys, strict=True)]
    return CustomerIdentifier.objects.filter(
        reduce(operator.or_, matches), client_id=client_id
    ).select_related("customer")


# Every ticket from a channel or the API looks its customer up: the SQL is written once per
# combination of identifier kinds (kefu/core/prepared.py).
_IDENTIFIERS_BY_KEYS = PreparedQuery(_identifiers_by_keys)


def customer_find_or_create(*, client: Client, data: CustomerData) -> Customer:
    """:func:`customer_find` (adding the identifiers it did not have yet, see
    :func:`customer_identifiers_learn`), else a new customer."""
    return _customer_find_or_create(client, data)[0]


def _customer_find_or_create(client: Client, data: CustomerData) -> tuple[Customer, bool]:
    """:func:`customer_find_or_create`, and whether the customer was created."""
    match = customer_lookup(client=client, data=data)
    if match.customer is None:
        return customer_create(client=client, data=data), True
    customer_identifiers_learn(match=match)
    return match.customer, False


def customer_identifiers_learn(*, match: CustomerMatch) -> None:
    """Give the found customer the identifiers of ``match`` that it did not hold: a new
    phone or email is also added to its (encrypted) lists. An identifier another customer
    holds verified is left to that customer (the two may be merged); one the customer
    held unverified becomes verified when it now came vouched for.

    Writes nothing (and runs no query) when the customer already had them all, as for
    nearly every message of a known customer."""
    customer = match.customer
    if customer is None:
        return
    verified = {(row.kind, row.key) for row in match.held if row.verified}
    own = {(row.kind, row.key): row for row in match.held if row.customer_id == customer.pk}
    new: list[NewIdentifier] = []
    confirm: list[int] = []
    for g in match.given:
        if (g.kind, g.key) in verified:
            continue
        row = own.get((g.kind, g.key))
        if row is None:
            new.append(g)
        elif g.verified:
            confirm.append(row.pk)
    if not new and not confirm:
        return
    with transaction.atomic():
        if confirm:
            try:
                with transaction.atomic():
                    CustomerIdentifier.objects.filter(pk__in=confirm).update(verified=True)
            except IntegrityError:
                pass  # another customer took it as verified meanwhile: theirs it stays
        contacts = [g for g in new if g.kind in (IdentifierKind.PHONE, IdentifierKind.EMAIL)]
        if contacts:
            for g in contacts:
                values = customer.phones if g.kind == IdentifierKind.PHONE else customer.emails
                if g.value not in values:
                    values.append(g.value)
            customer_index(customer=customer)
            customer.save(update_fields=["phones", "emails", "phone_key", "email_key"])
        customer_identifiers_insert(customer=customer, new=new)


def customer_identifiers_insert(*, customer: Customer, new: Sequence[NewIdentifier]) -> None:
    """Give the customer these identifiers: one INSERT for all of them. A key another
    customer has meanwhile taken as verified (two first messages of one new customer at
    once), or one the customer holds already, is skipped, not an error: the second
    customer simply is not found by it."""
    if not new:
        return
    now = timezone.now()
    _NEW_IDENTIFIERS.insert_many(
        [
            CustomerIdentifier(
                client_id=customer.client_id,
                customer=customer,
                kind=g.kind,
                key=g.key,
                value=g.value,
                verified=g.verified,
                created_at=now,
            )
            for g in new
        ]
    )


def customer_build(*, client: Client, data: CustomerData) -> Customer:
    """An unsaved customer with its blind indexes computed (for bulk_create too)."""
    name = data.name.strip()
    phone = data.phone.strip()
    email = data.email.strip().lower()
    customer = Customer(
        client=client,
        name=name,
        phones=[phone] if phone else [],
        emails=[email] if email else [],
        external_ids={"source": data.external_id} if data.external_id else {},
        external_key=data.external_id,
    )
    customer_index(customer=customer)
    return customer


def customer_index(*, customer: Customer) -> None:
    """Set the blind indexes (first phone, first email, name) from the customer's values.
    Call before saving whenever those change; does not save."""
    customer.phone_key = phone_index(str(customer.phones[0])) if customer.phones else ""
    customer.email_key = email_index(str(customer.emails[0])) if customer.emails else ""
    customer.name_key = name_index(customer.name)


def customer_create(*, client: Client, data: CustomerData) -> Customer:
    """A new customer with its identifiers (one INSERT for the customer, one for all its
    identifiers; verified as ``data.verified`` says). A duplicate external id raises
    IntegrityError with the caller's transaction still usable (the insert is a savepoint
    when nested). Without an external id nothing can collide, and the insert needs no
    savepoint (two statements fewer)."""
    validation.contact_check(data)
    customer = customer_build(client=client, data=data)
    with transaction.atomic() if customer.external_key else nullcontext():
        _NEW_CUSTOMER.insert(customer)
    customer_identifiers_insert(customer=customer, new=data.identifiers())
    return customer


@cache
def _choice_values(choices: type[TextChoices]) -> frozenset[str]:
    return frozenset(choices.values)


def _validate_choice(value: str, choices: type[TextChoices], field: str) -> None:
    if value not in _choice_values(choices):
        raise ValidationError({field: _("无效的取值：%(value)s") % {"value": value}})


@dataclass(frozen=True)
class Opened:
    """What :func:`ticket_open` made: the ticket, its first message (none when the customer
    sent neither words nor files) and the SLA clocks it started; ``customer_created``: the
    ticket's customer was created with it (from the contact details given)."""

    ticket: Ticket
    message: Message | None
    clocks: list[SlaClock]
    customer_created: bool = False


def ticket_create(
    *,
    client: Client,
    subject: str,
    body: str,
    channel: str,
    actor: User | None = None,
    kind: str = Kind.INQUIRY,
    priority: str = Priority.NORMAL,
    customer: Customer | CustomerData | None = None,
    body_html: str = "",
    author_name: str = "",
    tags: Sequence[str] = (),
    external_id: str = "",
    created_at: datetime | None = None,
) -> Ticket:
    """:func:`ticket_open` for a caller that needs only the ticket."""
    return ticket_open(
        client=client,
        subject=subject,
        body=body,
        channel=channel,
        actor=actor,
        kind=kind,
        priority=priority,
        customer=customer,
        body_html=body_html,
        author_name=author_name,
        tags=tags,
        external_id=external_id,
        created_at=created_at,
    ).ticket


def ticket_open(
    *,
    client: Client,
    subject: str,
    body: str,
    channel: str,
    actor: User | None = None,
    kind: str = Kind.INQUIRY,
    priority: str = Priority.NORMAL,
    customer: Customer | CustomerData | None = None,
    body_html: str = "",
    author_name: str = "",
    tags: Sequence[str] = (),
    external_id: str = "",
    created_at: datetime | None = None,
    attachments: Sequence[File] = (),
    channel_ids: Mapping[str, str] | None = None,
    message_external_id: str = "",
) -> Opened:
    """Create a ticket with its first inbound message (the customer's words and files).
    Channels come in through :func:`kefu.tickets.intake.ticket_intake`.

    ``actor`` is the agent or integration that created it (``None`` for a channel).
    ``customer`` is a known customer, or contact details to find or create one with.
    ``attachments``: the customer's files, checked as uploads are (one refused file refuses
    the ticket). ``channel_ids``: stored on the first message, which they identify (a
    second message with the same ids raises IntegrityError).

    What only needs reading — the customer by their contact details, the SLA targets that
    will apply — is read before the write transaction: the embedded database has one
    write lock, held from a transaction's start, and other requests' writes should wait
    for the writes alone. A customer not found is looked for again inside, where (on the
    embedded database) every earlier writer's rows are visible, so two requests from one
    new customer make one customer. A known customer writing with an identifier new to
    them (a second phone) gets it added, verified as ``customer.verified`` says.
    """
    require(actor, Perm.TICKET_CREATE)
    validation.ticket_check(body, tags, customer if isinstance(customer, CustomerData) else None)
    _validate_choice(channel, Channel, "channel")
    _validate_choice(kind, Kind, "kind")
    _validate_choice(priority, Priority, "priority")
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("主题不能为空")})
    files = attachments_check(attachments) if attachments else []
    contact: CustomerData | None = None
    match: CustomerMatch | None = None
    found: Customer | None
    if isinstance(customer, CustomerData):
        contact = customer
        match = customer_lookup(client=client, data=customer)
        found = match.customer
    else:
        found = customer
    targets = sla.sla_targets_for(
        client_id=client.pk, channel=channel, priority=priority, kind=kind
    )
    customer_created = False
    with transaction.atomic():
        if contact is not None and found is None:
            found, customer_created = _customer_find_or_create(client, contact)
        elif match is not None:
            customer_identifiers_learn(match=match)
        if found is not None and found.client_id != client.pk:
            raise ValidationError({"customer": _("客户不属于该甲方")})
        now = created_at or timezone.now()
        ticket = Ticket(
            client=client,
            number=ticket_number_placeholder(),
            subject=subject[:300],
            kind=kind,
            priority=priority,
            channel=channel,
            customer=found,
            external_id=external_id,
            created_at=now,
            updated_at=now,
        )
        # The clocks are worked out first, so the ticket is written once, with its due time.
        clocks = sla.sla_clocks_for_new_ticket(ticket=ticket, at=now, targets=targets)
        ticket.sla_due_at = sla.sla_due_of(clocks)
        _NEW_TICKET.insert(ticket)
        if tags:
            ticket.tags.set(_tags(client, tags))
        _event(ticket, EventType.CREATED, actor, now, channel=channel)
        sla.sla_clocks_start(clocks, at=now)
        message = None
        if body.strip() or body_html or files:
            message = _NEW_MESSAGE.create(
                client=client,
                ticket=ticket,
                direction=Direction.INBOUND,
                author_name=author_name or (found.name if found else ""),
                body_text=body,
                body_html=sanitize_html(body_html),
                external_id=message_external_id,
                channel_ids=dict(channel_ids or {}),
                channel_key=channel_key(channel_ids or {}),
                created_at=now,
            )
            _store(message, files)
        events.ticket_changed(ticket, "created")  # sent on commit; before the number's lock
        ticket_number_assign(ticket, client)
        return Opened(ticket, message, clocks, customer_created)


def _tags(client: Client, names: Sequence[str]) -> list[Tag]:
    clean = sorted({n.strip()[:64] for n in names if n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(client=client, name__in=clean)}
    missing = [Tag(client=client, name=n) for n in clean if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(client=client, name__in=clean)}
    return list(existing.values())


def _touch(ticket: Ticket, at: datetime, *fields: str) -> None:
    ticket.updated_at = at
    ticket.save(update_fields=[*fields, "updated_at"])


def _attach(message: Message, files: Sequence[File]) -> None:
    """Store the files on the message. Each is checked first (see
    :func:`kefu.tickets.attachments.attachments_check`); one refused file refuses them all,
    before any is written."""
    _store(message, attachments_check(files))


def _store(message: Message, files: Sequence[CheckedUpload]) -> None:
    """Store checked files, each under its checked name (never a path the sender gave)."""
    for upload in files:
        Attachment.objects.create(
            client_id=message.client_id,
            ticket_id=message.ticket_id,
            message=message,
            file=File(upload.file, name=upload.filename),
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
        )


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor: User | None,
    body: str,
    body_html: str = "",
    new_status: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    at: datetime | None = None,
    channel_data: Mapping[str, Any] | None = None,
) -> Message:
    """A public reply to the customer, sent on the ticket's channel by its delivery adapter
    (kefu.tickets.channels). A new ticket becomes open unless ``new_status`` says otherwise
    (e.g. pending: waiting on the customer).

    Refused (ValidationError, nothing saved) when the channel has no working transport for
    the client: the message says what to configure. Otherwise the message, its delivery
    and the task that sends it are written together; the response clocks are met when the
    transport accepts the reply, at that instant, not here. ``channel_data``: the
    channel's own reply fields (a phone call's outcome), checked by its adapter."""
    require(actor, Perm.TICKET_REPLY)
    validation.text_check(body)
    if not body.strip():
        raise ValidationError({"body": _("回复内容不能为空")})
    problem = transport_problem(ticket)
    if problem:
        raise ValidationError({"body": problem})
    now = at or timezone.now()
    message = _NEW_MESSAGE.create(
        client_id=ticket.client_id,
        ticket=ticket,
        direction=Direction.OUTBOUND,
        author=actor,
        author_name=str(actor) if actor else "",
        body_text=body,
        body_html=sanitize_html(body_html),
        created_at=now,
    )
    _attach(message, attachments)
    delivery_queue(ticket=ticket, message=message, at=now, data=channel_data or {}, checked=True)
    _event(ticket, EventType.REPLIED, actor, now, message=message.pk)
    target = new_status or (Status.OPEN if ticket.status == Status.NEW else None)
    if target and target != ticket.status:
        # Opened by the reply: acknowledge waits for the reply to reach the customer.
        _change_status(ticket, actor, target, now, by_reply=True)
    else:
        _touch(ticket, now)
    events.message_added(ticket, message)
    return message


@transaction.atomic
def ticket_add_note(
    *,
    ticket: Ticket,
    actor: User | None,
    body: str,
    attachments: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> Message:
    require(actor, Perm.TICKET_NOTE)
    validation.text_check(body)
    if not body.strip():
        raise ValidationError({"body": _("备注内容不能为空")})
    now = at or timezone.now()
    message = _NEW_MESSAGE.create(
        client_id=ticket.client_id,
        ticket=ticket,
        direction=Direction.NOTE,
        author=actor,
        author_name=str(actor) if actor else "",
        body_text=body,
        created_at=now,
    )
    _attach(message, attachments)
    _event(ticket, EventType.NOTED, actor, now, message=message.pk)
    _touch(ticket, now)
    events.message_added(ticket, message)
    return message


@transaction.atomic
def ticket_add_customer_message(
    *,
    ticket: Ticket,
    body: str,
    body_html: str = "",
    author_name: str = "",
    external_id: str = "",
    at: datetime | None = None,
    attachments: Sequence[File] = (),
    channel_ids: Mapping[str, str] | None = None,
) -> Message:
    """The customer wrote again. Pending resumes to open; a resolved or closed ticket is
    reopened (the customer's matter is not settled). ``attachments`` and ``channel_ids`` as
    for :func:`ticket_open`."""
    validation.text_check(body)
    files = attachments_check(attachments) if attachments else []
    now = at or timezone.now()
    message = _NEW_MESSAGE.create(
        client_id=ticket.client_id,
        ticket=ticket,
        direction=Direction.INBOUND,
        author_name=author_name or (ticket.customer.name if ticket.customer else ""),
        body_text=body,
        body_html=sanitize_html(body_html),
        external_id=external_id,
        channel_ids=dict(channel_ids or {}),
        channel_key=channel_key(channel_ids or {}),
        created_at=now,
    )
    _store(message, files)
    _event(ticket, EventType.CUSTOMER_MESSAGE, None, now, message=message.pk)
    if ticket.status != Status.OPEN and ticket.status != Status.NEW:
        _change_status(ticket, None, Status.OPEN, now)
    else:
        _touch(ticket, now)
    events.message_added(ticket, message)
    return message


def _change_status(
    ticket: Ticket, actor: User | None, status: str, at: datetime, *, by_reply: bool = False
) -> None:
    old = ticket.status
    if status not in STATUS_TRANSITIONS[old]:
        raise ValidationError(
            {
                "status": _("不能从“%(old)s”变为“%(new)s”")
                % {"old": Status(old).label, "new": Status(status).label}
            }
        )
    ticket.status = status
    fields = ["status"]
    if status == Status.RESOLVED and ticket.first_resolved_at is None:
        ticket.first_resolved_at = at
        fields.append("first_resolved_at")
    _touch(ticket, at, *fields)
    sla.sla_on_status(ticket=ticket, old=old, new=status, at=at, by_reply=by_reply)
    reopened = old in (Status.RESOLVED, Status.CLOSED) and status == Status.OPEN
    _event(
        ticket, EventType.REOPENED if reopened else EventType.STATUS, actor, at, old=old, new=status
    )


@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, actor: User | None, status: str, at: datetime | None = None
) -> Ticket:
    require(actor, Perm.TICKET_STATUS)
    _validate_choice(status, Status, "status")
    if status != ticket.status:
        _change_status(ticket, actor, status, at or timezone.now())
        events.ticket_changed(ticket, "status")
    return ticket


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    actor: User | None,
    assignee: User | None,
    team: Team | None = None,
) -> Ticket:
    """Assign to an agent serving the ticket's client (and optionally a team of it)."""
    require(actor, Perm.TICKET_ASSIGN)
    if assignee is not None:
        ids = assignee.visible_client_ids()
        if not assignee.is_provider or (ids is not None and ticket.client_id not in ids):
            raise ValidationError({"assignee": _("该坐席不负责这个甲方")})
    if team is not None and team.client_id != ticket.client_id:
        raise ValidationError({"team": _("坐席组不属于该甲方")})
    now = timezone.now()
    old = ticket.assignee_id
    ticket.assignee = assignee
    ticket.team = team if team is not None else ticket.team
    _touch(ticket, now, "assignee", "team")
    _event(
        ticket,
        EventType.ASSIGNED,
        actor,
        now,
        old=old,
        new=assignee.pk if assignee else None,
        team=ticket.team_id,
    )
    events.ticket_changed(ticket, "assigned")
    if assignee is not None and assignee != actor:
        # The task row is written in this transaction (database task backend), so the
        # notification exists exactly when the assignment does.
        tasks.notify_user.enqueue(assignee.pk, "assigned", ticket.pk)
    return ticket


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User | None,
    subject: str | None = None,
    kind: str | None = None,
    priority: str | None = None,
    tags: Sequence[str] | None = None,
) -> Ticket:
    require(actor, Perm.TICKET_EDIT)
    now = timezone.now()
    fields: list[str] = []
    if subject is not None and subject.strip() and subject.strip() != ticket.subject:
        ticket.subject = subject.strip()[:300]
        fields.append("subject")
    if kind is not None and kind != ticket.kind:
        _validate_choice(kind, Kind, "kind")
        _event(ticket, EventType.KIND, actor, now, old=ticket.kind, new=kind)
        ticket.kind = kind
        fields.append("kind")
    if priority is not None and priority != ticket.priority:
        _validate_choice(priority, Priority, "priority")
        _event(ticket, EventType.PRIORITY, actor, now, old=ticket.priority, new=priority)
        ticket.priority = priority
        fields.append("priority")
    if tags is not None:
        validation.tags_check(tags)
        new_tags = _tags(ticket.client, tags)
        old_names = sorted(ticket.tags.values_list("name", flat=True))
        new_names = sorted(t.name for t in new_tags)
        if old_names != new_names:
            ticket.tags.set(new_tags)
            _event(ticket, EventType.TAGS, actor, now, old=old_names, new=new_names)
    if fields:
        _touch(ticket, now, *fields)
    if "kind" in fields or "priority" in fields:
        sla.sla_on_retarget(ticket=ticket, at=now)
    events.ticket_changed(ticket, "updated")
    return ticket


_PRIORITY_UP = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
}


@transaction.atomic
def ticket_raise_priority(*, ticket: Ticket, reason: str, at: datetime | None = None) -> Ticket:
    """One step up (low → normal → high → urgent), done by kefu itself (an SLA breach)."""
    new = _PRIORITY_UP.get(Priority(ticket.priority))
    if new is None:
        return ticket
    now = at or timezone.now()
    _event(ticket, EventType.PRIORITY, None, now, old=ticket.priority, new=new, reason=reason)
    ticket.priority = new
    _touch(ticket, now, "priority")
    sla.sla_on_retarget(ticket=ticket, at=now)
    events.ticket_changed(ticket, "priority")
    return ticket


@transaction.atomic
def ticket_escalate(
    *,
    ticket: Ticket,
    actor: User | None,
    department: Department,
    reason: str,
    expected_by: datetime,
    notice: str | None = None,
) -> Escalation:
    """Escalate to a client department. The customer is told the expected completion time
    in a public message; the department's members are notified. The promised time is
    watched from then on (kefu/tickets/promises.py)."""
    require(actor, Perm.TICKET_ESCALATE)
    if department.client_id != ticket.client_id:
        raise ValidationError({"department": _("部门不属于该甲方")})
    validation.text_check(reason, field="reason")
    if not reason.strip():
        raise ValidationError({"reason": _("请填写升级原因")})
    now = timezone.now()
    if timezone.is_naive(expected_by) or expected_by <= now:
        raise ValidationError({"expected_by": _("预计完成时间必须是将来的时间")})
    if not ticket.is_open:
        raise ValidationError({"status": _("只能升级未解决的工单")})
    warn_at = promises.promise_warn_at(created_at=now, expected_by=expected_by)
    escalation = Escalation.objects.create(
        client_id=ticket.client_id,
        ticket=ticket,
        department=department,
        requested_by=actor,
        reason=reason.strip(),
        expected_by=expected_by,
        created_at=now,
        # The promise is watched from here (kefu/tickets/promises.py).
        warn_at=warn_at,
        next_check_at=warn_at,
    )
    when = timezone.localtime(expected_by).strftime("%Y-%m-%d %H:%M")
    text = notice or _(
        "您好，您的问题（工单 %(number)s）已转交%(dept)s处理，预计于 %(when)s 前给您答复。"
    ) % {"number": ticket.number, "dept": department.name, "when": when}
    notice_message = _NEW_MESSAGE.create(
        client_id=ticket.client_id,
        ticket=ticket,
        direction=Direction.OUTBOUND,
        author=actor,
        author_name=str(actor) if actor else "",
        body_text=text,
        created_at=now,
    )
    # Told on the ticket's channel where it has a transport; elsewhere the notice stays
    # in kefu as a failed delivery that says what to configure.
    delivery_queue(ticket=ticket, message=notice_message, at=now, data=None, counts_as_reply=False)
    ticket.escalated = True
    _touch(ticket, now, "escalated")
    if ticket.status in (Status.NEW, Status.PENDING):
        _change_status(ticket, actor, Status.OPEN, now)
    sla.sla_on_escalated(ticket=ticket, at=now)
    _event(
        ticket,
        EventType.ESCALATED,
        actor,
        now,
        escalation=escalation.pk,
        department=department.name,
        expected_by=expected_by.isoformat(),
    )
    tasks.notify_department.enqueue(escalation.pk)
    events.ticket_changed(ticket, "escalated")
    return escalation


def _department_turn(escalation: Escalation, actor: User | None, field: str) -> Escalation:
    """The escalation, locked, once ``actor`` may act for its department and it is still
    open."""
    require(actor, Perm.ESCALATION_ANSWER)
    if (
        actor is not None
        and actor.role == Role.DEPARTMENT
        and actor.department_id != escalation.department_id
    ):
        raise PermissionDenied(_("这不是你部门的升级事项。"))
    locked = (
        Escalation.objects.select_for_update().select_related("department").get(pk=escalation.pk)
    )
    if locked.status != EscalationStatus.OPEN:
        raise ValidationError({field: _("该升级事项已经答复或退回了")})
    return locked


def _escalation_text(text: str, field: str, empty: str) -> str:
    validation.text_check(text, field=field)
    if not text.strip():
        raise ValidationError({field: empty})
    return text.strip()


def _escalation_note(
    ticket: Ticket,
    actor: User | None,
    escalation: Escalation,
    text: str,
    at: datetime,
    attachments: Sequence[UploadedFile],
) -> Message:
    """The department's words (or the provider's to it) as an internal note, signed with
    the person and, once, the department."""
    name = escalation.department.name
    who = str(actor) if actor else ""
    note = _NEW_MESSAGE.create(
        client_id=ticket.client_id,
        ticket=ticket,
        direction=Direction.NOTE,
        author=actor,
        author_name=who if not who or name in who else f"{who} · {name}",
        body_text=text,
        created_at=at,
    )
    _attach(note, attachments)
    return note


def _escalation_closed(
    escalation: Escalation,
    actor: User | None,
    text: str,
    status: str,
    event: str,
    notify: str,
    attachments: Sequence[UploadedFile],
) -> Escalation:
    """The department is done with the escalation (answered or returned): the ticket goes
    back to its agent and the promised time is no longer watched."""
    now = timezone.now()
    escalation.status = status
    escalation.answer = text
    escalation.answered_by = actor
    escalation.answered_at = now
    escalation.info_requested_at = None
    escalation.next_check_at = None
    escalation.save(
        update_fields=[
            "status",
            "answer",
            "answered_by",
            "answered_at",
            "info_requested_at",
            "next_check_at",
        ]
    )
    ticket = Ticket.objects.select_for_update().get(pk=escalation.ticket_id)
    _escalation_note(ticket, actor, escalation, text, now, attachments)
    ticket.escalated = ticket.escalations.filter(status=EscalationStatus.OPEN).exists()
    _touch(ticket, now, "escalated")
    if ticket.status not in OPEN_STATUSES:
        _change_status(ticket, actor, Status.OPEN, now)
    _event(
        ticket, event, actor, now, escalation=escalation.pk, department=escalation.department.name
    )
    if ticket.assignee_id is not None:
        tasks.notify_user.enqueue(ticket.assignee_id, notify, ticket.pk)
    events.ticket_changed(ticket, notify)
    return escalation


@transaction.atomic
def escalation_answer(
    *,
    escalation: Escalation,
    actor: User | None,
    answer: str,
    attachments: Sequence[UploadedFile] = (),
) -> Escalation:
    """The department answers inside kefu, with files if it has them (checked like any
    upload); the ticket returns to its agent, and the promised time is no longer watched."""
    escalation = _department_turn(escalation, actor, "answer")
    text = _escalation_text(answer, "answer", _("答复内容不能为空"))
    return _escalation_closed(
        escalation,
        actor,
        text,
        EscalationStatus.ANSWERED,
        EventType.ESCALATION_ANSWERED,
        "escalation_answered",
        attachments,
    )


@transaction.atomic
def escalation_return(*, escalation: Escalation, actor: User | None, reason: str) -> Escalation:
    """The department sends the escalation back (not its matter, not enough to act on)
    with a reason; the agent handles the ticket again or escalates elsewhere. The customer
    was promised a time: the agent sees the return at once (notified) to keep it."""
    escalation = _department_turn(escalation, actor, "reason")
    text = _escalation_text(reason, "reason", _("请填写退回原因"))
    return _escalation_closed(
        escalation,
        actor,
        text,
        EscalationStatus.RETURNED,
        EventType.ESCALATION_RETURNED,
        "escalation_returned",
        (),
    )


@transaction.atomic
def escalation_ask_info(*, escalation: Escalation, actor: User | None, question: str) -> Escalation:
    """The department asks the provider for what it needs to act. The escalation stays
    open and its promised time keeps running: the promise was made to the customer."""
    escalation = _department_turn(escalation, actor, "question")
    text = _escalation_text(question, "question", _("请写明需要补充的信息"))
    now = timezone.now()
    escalation.info_requested_at = now
    escalation.save(update_fields=["info_requested_at"])
    ticket = Ticket.objects.select_for_update().get(pk=escalation.ticket_id)
    _escalation_note(ticket, actor, escalation, text, now, ())
    _touch(ticket, now)
    _event(
        ticket,
        EventType.ESCALATION_INFO_REQUESTED,
        actor,
        now,
        escalation=escalation.pk,
        department=escalation.department.name,
    )
    if ticket.assignee_id is not None:
        tasks.notify_user.enqueue(ticket.assignee_id, "escalation_info_asked", ticket.pk)
    events.ticket_changed(ticket, "escalation_info_asked")
    return escalation


@transaction.atomic
def escalation_give_info(
    *,
    escalation: Escalation,
    actor: User | None,
    info: str,
    attachments: Sequence[UploadedFile] = (),
) -> Escalation:
    """The provider answers the department's question (with files); the department sees
    it on the ticket and in its history."""
    require(actor, Perm.TICKET_NOTE)
    escalation = (
        Escalation.objects.select_for_update().select_related("department").get(pk=escalation.pk)
    )
    if escalation.status != EscalationStatus.OPEN or escalation.info_requested_at is None:
        raise ValidationError({"info": _("甲方部门没有在等待补充信息")})
    text = _escalation_text(info, "info", _("补充信息不能为空"))
    now = timezone.now()
    escalation.info_requested_at = None
    escalation.save(update_fields=["info_requested_at"])
    ticket = Ticket.objects.select_for_update().get(pk=escalation.ticket_id)
    _escalation_note(ticket, actor, escalation, text, now, attachments)
    _touch(ticket, now)
    _event(
        ticket,
        EventType.ESCALATION_INFO_GIVEN,
        actor,
        now,
        escalation=escalation.pk,
        department=escalation.department.name,
    )
    events.ticket_changed(ticket, "escalation_info_given")
    return escalation
