"""Mail kefu sends: agents' replies on email tickets and acknowledgements of new ones.

An :class:`OutboundMail` row is written in the transaction of what caused it, with its
Message-ID, In-Reply-To and References fixed there. A reply's mail is driven by its
ticket message's delivery (kefu.tickets.delivery: its task, claim, back-off and stale-claim
handling; :mod:`kefu.mail.delivery` is the adapter), which calls :func:`mail_reply_send` once
per attempt. An acknowledgement has no delivery: a task row sends it (database task
backend: both commit or neither); sending claims the row (pending → sending), talks to the
mailbox's SMTP server and marks it sent; a failure is retried with back-off by
:func:`outbound_retry_due` (the scheduler), as is a row left "sending" by a crashed worker.
Either way, a crash between the SMTP server's acceptance and the "sent" mark sends the mail
again with the same Message-ID (at least once; receivers drop the repeat by Message-ID).

A mailbox whose SMTP server is ``file`` (:data:`FILE_TRANSPORT`: the demo, a fresh
machine) writes each mail as ``<Message-ID>.eml`` under ``settings.KEFU_MAIL_OUTBOX``
(``<KEFU_VAR_DIR>/mail/outbox``), accepted at the instant it is written."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from kefu.mail import headers
from kefu.mail.models import (
    FILE_TRANSPORT,
    InboundMail,
    Mailbox,
    OutboundKind,
    OutboundMail,
    OutboundStatus,
    Result,
    Security,
)
from kefu.sla.services import sla_on_acknowledged
from kefu.tickets.channels import Accepted, DeliveryFailed
from kefu.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

# A row still "sending" after this long belongs to a worker that died.
STALE_SENDING = timedelta(minutes=10)


def _thread_ids(ticket: Ticket) -> list[str]:
    """Every Message-ID of the ticket's mails, oldest first."""
    dated: list[tuple[datetime, str]] = [
        (at, mid)
        for at, mid in InboundMail.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .values_list("received_at", "message_id")
    ]
    dated += list(
        OutboundMail.objects.filter(ticket=ticket).values_list("created_at", "message_id")
    )
    return [mid for _at, mid in sorted(dated)]


def _last_inbound(ticket: Ticket) -> InboundMail | None:
    return (
        InboundMail.objects.filter(ticket=ticket, result__in=[Result.CREATED, Result.APPENDED])
        .defer("raw")
        .order_by("-received_at", "-id")
        .first()
    )


def outbound_queue(
    *,
    ticket: Ticket,
    mailbox: Mailbox,
    kind: str,
    to_address: str,
    parent_ids: list[str],
    message: Message | None = None,
    subject: str = "",
    enqueue: bool = True,
) -> OutboundMail:
    """Record one mail to send and, unless ``enqueue`` is false (a reply: its delivery
    sends it), queue its sending in the caller's transaction."""
    from kefu.mail import tasks

    chain = _thread_ids(ticket)
    parent = parent_ids[-1] if parent_ids else (chain[-1] if chain else "")
    refs = headers.references([m for m in chain if m != parent], parent) if parent else []
    if not subject:
        subject = headers.reply_subject(ticket.subject, ticket.number)
    outbound = OutboundMail.objects.create(
        client_id=ticket.client_id,
        mailbox=mailbox,
        ticket=ticket,
        ticket_message=message,
        kind=kind,
        message_id=make_msgid(domain=mailbox.domain).strip("<>"),
        in_reply_to=parent,
        references=" ".join(refs),
        to_address=to_address,
        subject=subject[:400],
    )
    if enqueue:
        tasks.send_outbound.enqueue(outbound.pk)
    return outbound


@dataclass(frozen=True)
class ReplyRoute:
    """How a reply on an email ticket reaches the customer: through ``mailbox`` to
    ``address``, threaded onto the customer's latest mail ``last`` (if any)."""

    mailbox: Mailbox | None
    address: str
    last: InboundMail | None


def mail_reply_route(ticket: Ticket) -> ReplyRoute:
    """The address of the customer's latest mail (else their first email address), and
    the active mailbox it came in by if that one can send, else the client's first active
    mailbox that can."""
    last = _last_inbound(ticket)
    mailbox = last.mailbox if last is not None else None
    if mailbox is None or not mailbox.can_send or not mailbox.active:
        mailbox = (
            Mailbox.objects.filter(client_id=ticket.client_id, active=True)
            .exclude(smtp_host="")
            .order_by("pk")
            .first()
        )
    address = last.from_address if last is not None else ""
    if not address and ticket.customer is not None and ticket.customer.emails:
        address = str(ticket.customer.emails[0])
    return ReplyRoute(mailbox, address, last)


def mail_reply_queue(*, message: Message) -> OutboundMail | None:
    """The agent's public reply on an email ticket, as a mail to the customer (see
    :func:`mail_reply_route`), written in the caller's transaction and sent by the
    message's delivery. ``None`` when there is no mailbox able to send or no address."""
    ticket = message.ticket
    route = mail_reply_route(ticket)
    if route.mailbox is None or not route.address:
        return None
    last = route.last
    parent = [last.message_id] if last is not None and last.message_id else []
    return outbound_queue(
        ticket=ticket,
        mailbox=route.mailbox,
        kind=OutboundKind.REPLY,
        to_address=route.address,
        parent_ids=parent,
        message=message,
        enqueue=False,
    )


def _render(source: str, context: dict[str, Any]) -> str:
    return Template(source).render(Context(context, autoescape=False)).strip()


def ack_content(outbound: OutboundMail) -> tuple[str, str]:
    """Subject and body of an acknowledgement: the mailbox's own template (Chinese, then
    English) or the default one; the ticket number is always in the subject."""
    ticket, mailbox = outbound.ticket, outbound.mailbox
    context = {"number": ticket.number, "subject": ticket.subject, "client": ticket.client.name}
    subject = outbound.subject
    if mailbox.ack_subject.strip():
        subject = _render(mailbox.ack_subject, context)
        if f"[{ticket.number}]" not in subject:
            subject = f"{subject} [{ticket.number}]"
    parts = [
        _render(mailbox.ack_body_zh, context)
        if mailbox.ack_body_zh.strip()
        else render_to_string("mail/ack_zh.txt", context).strip(),
        _render(mailbox.ack_body_en, context)
        if mailbox.ack_body_en.strip()
        else render_to_string("mail/ack_en.txt", context).strip(),
    ]
    return subject, "\n\n----\n\n".join(p for p in parts if p) + "\n"


def build_email(outbound: OutboundMail) -> EmailMessage:
    mailbox = outbound.mailbox
    extra = {"Message-ID": f"<{outbound.message_id}>"}
    if outbound.in_reply_to:
        extra["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        extra["References"] = headers.format_ids(outbound.references.split())
    if outbound.kind == OutboundKind.ACK:
        subject, body = ack_content(outbound)
        # RFC 3834: an automatic answer, so that auto-responders do not answer it back.
        extra["Auto-Submitted"] = "auto-replied"
        extra["X-Auto-Response-Suppress"] = "All"
    else:
        assert outbound.ticket_message is not None
        subject, body = outbound.subject, outbound.ticket_message.body_text
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((mailbox.from_name, mailbox.address))
        if mailbox.from_name
        else mailbox.address,
        to=[outbound.to_address],
        headers=extra,
    )
    if outbound.ticket_message is not None:
        for attachment in outbound.ticket_message.attachments.all():
            with attachment.file.open("rb") as fh:
                email.attach(attachment.filename, fh.read(), attachment.content_type)
    return email


def smtp_connection(mailbox: Mailbox) -> Any:
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_user or None,
        password=mailbox.smtp_password or None,
        use_tls=mailbox.smtp_security == Security.STARTTLS,
        use_ssl=mailbox.smtp_security == Security.SSL,
        timeout=30,
        fail_silently=False,
    )


def _write_file(outbound: OutboundMail) -> None:
    """The file transport: the mail as ``<Message-ID>.eml`` in the outbox directory."""
    outbox = Path(settings.KEFU_MAIL_OUTBOX)
    outbox.mkdir(parents=True, exist_ok=True)
    name = outbound.message_id.replace("/", "_")
    (outbox / f"{name}.eml").write_bytes(build_email(outbound).message().as_bytes())


def _transmit(outbound: OutboundMail) -> datetime:
    """Hand the mail to the mailbox's transport; returns the instant it was accepted (the
    end of the SMTP server's 250 to the data, or the file written)."""
    if outbound.mailbox.smtp_host == FILE_TRANSPORT:
        _write_file(outbound)
    else:
        with smtp_connection(outbound.mailbox) as connection:
            connection.send_messages([build_email(outbound)])
    return timezone.now()


def mail_notice_send(
    *, mailbox: Mailbox, to_address: str, subject: str, body: str
) -> tuple[datetime, str]:
    """Send one automatic notice kefu writes itself (a satisfaction survey's link) through
    the mailbox's transport, now; returns the instant it was accepted and its Message-ID.
    Raises what the transport raised (the caller records and retries)."""
    message_id = make_msgid(domain=mailbox.domain).strip("<>")
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((mailbox.from_name, mailbox.address))
        if mailbox.from_name
        else mailbox.address,
        to=[to_address],
        headers={"Message-ID": f"<{message_id}>", "Auto-Submitted": "auto-generated"},
    )
    if mailbox.smtp_host == FILE_TRANSPORT:
        outbox = Path(settings.KEFU_MAIL_OUTBOX)
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{message_id.replace('/', '_')}.eml").write_bytes(email.message().as_bytes())
    else:
        with smtp_connection(mailbox) as connection:
            connection.send_messages([email])
    return timezone.now(), message_id


def mail_failure_reason(exc: Exception) -> tuple[str, bool]:
    """The transport's answer to a failed send, and whether trying again may pass."""
    return _reason(exc), _retryable(exc)


def _retryable(exc: Exception) -> bool:
    """A 5xx answer (an address or a message refused) will be refused again; a 4xx, a
    server down or a timeout may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return bool(exc.smtp_code < 500)
    return True


def _reason(exc: Exception) -> str:
    """The server's own answer where it gave one ("451 4.3.0 try again later")."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        ]
        return f"{type(exc).__name__}: {'; '.join(answers)}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _claim(outbound_id: int, now: datetime) -> OutboundMail | None:
    with transaction.atomic():
        won = (
            OutboundMail.objects.filter(pk=outbound_id)
            .filter(
                # pending and due, or left "sending" by a worker that died
                status__in=[OutboundStatus.PENDING, OutboundStatus.SENDING],
            )
            .exclude(status=OutboundStatus.PENDING, next_attempt_at__gt=now)
            .exclude(status=OutboundStatus.SENDING, next_attempt_at__gt=now - STALE_SENDING)
            .update(status=OutboundStatus.SENDING, next_attempt_at=now)
        )
    if not won:
        return None
    return OutboundMail.objects.select_related("mailbox", "ticket__client", "ticket_message").get(
        pk=outbound_id
    )


def outbound_send(*, outbound_id: int, now: datetime | None = None) -> str:
    """Send one queued mail now if it is due; returns its status afterwards."""
    now = now or timezone.now()
    outbound = _claim(outbound_id, now)
    if outbound is None:
        row = OutboundMail.objects.filter(pk=outbound_id).values_list("status", flat=True).first()
        return row or "missing"
    try:
        sent_at = _transmit(outbound)
    except Exception as exc:
        attempts = outbound.attempts + 1
        failed = attempts >= OutboundMail.MAX_ATTEMPTS
        OutboundMail.objects.filter(pk=outbound.pk).update(
            status=OutboundStatus.FAILED if failed else OutboundStatus.PENDING,
            attempts=attempts,
            last_error=_reason(exc),
            next_attempt_at=now + timedelta(minutes=2**attempts),
        )
        logger.warning("mail %s not sent (attempt %s): %s", outbound.pk, attempts, exc)
        return OutboundStatus.FAILED if failed else OutboundStatus.PENDING
    _mark_sent(outbound, sent_at=sent_at)
    return OutboundStatus.SENT


def mail_reply_send(*, message_id: int) -> Accepted:
    """One attempt at a reply's mail, for its delivery (which claimed it, and retries it):
    the mail's own row records the attempt; returns the instant the server accepted it,
    else raises :class:`DeliveryFailed` with the server's answer."""
    outbound = (
        OutboundMail.objects.select_related("mailbox", "ticket__client", "ticket_message")
        .filter(ticket_message_id=message_id, kind=OutboundKind.REPLY)
        .first()
    )
    if outbound is None:
        raise DeliveryFailed("邮件记录缺失 / the reply's mail record is missing", retryable=False)
    OutboundMail.objects.filter(pk=outbound.pk).update(
        status=OutboundStatus.SENDING, next_attempt_at=timezone.now()
    )
    try:
        sent_at = _transmit(outbound)
    except Exception as exc:
        retryable = _retryable(exc)
        OutboundMail.objects.filter(pk=outbound.pk).update(
            status=OutboundStatus.PENDING if retryable else OutboundStatus.FAILED,
            attempts=outbound.attempts + 1,
            last_error=_reason(exc),
        )
        raise DeliveryFailed(_reason(exc), retryable=retryable) from exc
    _mark_sent(outbound, sent_at=sent_at)
    return Accepted(at=sent_at, external_id=outbound.message_id)


@transaction.atomic
def _mark_sent(outbound: OutboundMail, *, sent_at: datetime) -> None:
    OutboundMail.objects.filter(pk=outbound.pk).update(
        status=OutboundStatus.SENT, attempts=outbound.attempts + 1, sent_at=sent_at
    )
    if outbound.kind == OutboundKind.ACK and outbound.ticket is not None:
        # The acknowledgement is what the contract's 确认登记 target asks for.
        sla_on_acknowledged(ticket=outbound.ticket, at=sent_at)


def outbound_retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send acknowledgements whose retry is due and those a dead worker left "sending";
    returns how many were sent."""
    now = now or timezone.now()
    stale = now - STALE_SENDING
    due = OutboundMail.objects.filter(
        # a reply's mail is retried by its delivery (kefu.tickets.delivery), not here
        ticket_message__isnull=True
    ).filter(
        # a retry that is due; a first try whose task has not run for a while (no worker);
        # a send a dead worker left unfinished
        Q(status=OutboundStatus.PENDING, attempts__gt=0, next_attempt_at__lte=now)
        | Q(status=OutboundStatus.PENDING, next_attempt_at__lte=stale)
        | Q(status=OutboundStatus.SENDING, next_attempt_at__lte=stale)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(outbound_send(outbound_id=pk, now=now) == OutboundStatus.SENT for pk in ids)
