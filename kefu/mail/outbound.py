"""Mail kefu sends: agents' replies on email tickets and acknowledgements of new ones.

An :class:`OutboundMail` row is written in the transaction of what caused it, with its
Message-ID, In-Reply-To and References fixed there, and a task row that sends it (database
task backend: both commit or neither). Sending claims the row (pending → sending), talks to
the mailbox's SMTP server and marks it sent; a failure is retried with back-off by
:func:`outbound_retry_due` (the scheduler), as is a row left "sending" by a crashed worker.
A crash between the SMTP server's acceptance and the "sent" mark sends the mail again with
the same Message-ID (at least once; receivers drop the repeat by Message-ID)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from kefu.mail import headers
from kefu.mail.models import (
    InboundMail,
    Mailbox,
    OutboundKind,
    OutboundMail,
    OutboundStatus,
    Result,
    Security,
)
from kefu.sla.services import sla_on_acknowledged
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
) -> OutboundMail:
    """Record one mail to send and queue its sending in the caller's transaction."""
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
    tasks.send_outbound.enqueue(outbound.pk)
    return outbound


def mail_reply_queue(*, message: Message) -> OutboundMail | None:
    """The agent's public reply on an email ticket goes to the customer: to the address of
    their latest mail, through the mailbox it came in by. ``None`` when the ticket has no
    mailbox able to send or no customer address (the reply stays in kefu)."""
    ticket = message.ticket
    last = _last_inbound(ticket)
    mailbox = last.mailbox if last is not None else None
    if mailbox is None or not mailbox.can_send:
        mailbox = (
            Mailbox.objects.filter(client_id=ticket.client_id, active=True)
            .exclude(smtp_host="")
            .first()
        )
    address = last.from_address if last is not None else ""
    if not address and ticket.customer is not None and ticket.customer.emails:
        address = str(ticket.customer.emails[0])
    if mailbox is None or not address:
        logger.info("reply %s on %s not mailed: no mailbox or address", message.pk, ticket.number)
        return None
    parent = [last.message_id] if last is not None and last.message_id else []
    return outbound_queue(
        ticket=ticket,
        mailbox=mailbox,
        kind=OutboundKind.REPLY,
        to_address=address,
        parent_ids=parent,
        message=message,
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
        with smtp_connection(outbound.mailbox) as connection:
            connection.send_messages([build_email(outbound)])
    except Exception as exc:
        attempts = outbound.attempts + 1
        failed = attempts >= OutboundMail.MAX_ATTEMPTS
        OutboundMail.objects.filter(pk=outbound.pk).update(
            status=OutboundStatus.FAILED if failed else OutboundStatus.PENDING,
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=now + timedelta(minutes=2**attempts),
        )
        logger.warning("mail %s not sent (attempt %s): %s", outbound.pk, attempts, exc)
        return OutboundStatus.FAILED if failed else OutboundStatus.PENDING
    _mark_sent(outbound, sent_at=timezone.now())
    return OutboundStatus.SENT


@transaction.atomic
def _mark_sent(outbound: OutboundMail, *, sent_at: datetime) -> None:
    OutboundMail.objects.filter(pk=outbound.pk).update(
        status=OutboundStatus.SENT, attempts=outbound.attempts + 1, sent_at=sent_at
    )
    if outbound.kind == OutboundKind.ACK and outbound.ticket is not None:
        # The acknowledgement is what the contract's 确认登记 target asks for.
        sla_on_acknowledged(ticket=outbound.ticket, at=sent_at)


def outbound_retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send mails whose retry is due and those a dead worker left "sending"; returns how
    many were sent."""
    now = now or timezone.now()
    stale = now - STALE_SENDING
    due = OutboundMail.objects.filter(
        # a retry that is due; a first try whose task has not run for a while (no worker);
        # a send a dead worker left unfinished
        Q(status=OutboundStatus.PENDING, attempts__gt=0, next_attempt_at__lte=now)
        | Q(status=OutboundStatus.PENDING, next_attempt_at__lte=stale)
        | Q(status=OutboundStatus.SENDING, next_attempt_at__lte=stale)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(outbound_send(outbound_id=pk, now=now) == OutboundStatus.SENT for pk in ids)
