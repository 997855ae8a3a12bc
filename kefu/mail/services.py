"""Every write of the email channel's inbound side: mailboxes, ingestion, re-processing.

Ingestion (:func:`mail_ingest`) is one transaction: the raw message and its processing
record are written first, then the message is parsed, threaded and turned into a ticket or
a message on one, and the acknowledgement mail is queued (a task row in the same
transaction). Whatever the caller is (IMAP poll, LMTP listener, ``kefu email ingest``), it
acknowledges the message to its source (IMAP flag, ``250``) only after this returns.

Outcomes: ``created`` (new ticket), ``appended`` (a message on an existing ticket),
``duplicate`` (the same Message-ID, or the same bytes when there is none, was already
stored for the client: nothing written), ``ignored`` (auto-reply, bounce or a mail from kefu
itself: stored, linked to its ticket when it threads, never answered), ``quarantined``
(unreadable, or for no configured client: stored raw with the reason, for an admin to look
at and re-process)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.mail import headers
from kefu.mail.models import (
    InboundMail,
    MailAddressStatus,
    Mailbox,
    OutboundKind,
    OutboundMail,
    Result,
)
from kefu.mail.parse import MailAttachment, MailParseError, ParsedMail, parse_message
from kefu.sla.models import Metric
from kefu.sla.services import sla_targets_for
from kefu.tickets.intake import Incoming, ticket_intake
from kefu.tickets.models import Channel, Ticket
from kefu.tickets.services import CustomerData
from kefu.tickets.uploads import HEAD_BYTES, check_upload

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"
# Acknowledgements one sender address may receive per hour (stored mails are counted, so
# the limit holds across processes and restarts).
ACK_PER_HOUR = 3


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    result: str  # created | appended | duplicate | ignored | quarantined
    inbound_id: int | None
    ticket: str = ""  # the ticket number, when there is one
    reason: str = ""


def mailbox_for_address(address: str) -> Mailbox | None:
    return Mailbox.objects.filter(address__iexact=address.strip(), active=True).first()


def _mailbox_for(recipients: Sequence[str], client: Client | None = None) -> Mailbox | None:
    qs = Mailbox.objects.filter(active=True).select_related("client")
    if client is not None:
        qs = qs.filter(client=client)
    by_address = {m.address.lower(): m for m in qs}
    for address in recipients:
        if address.strip().lower() in by_address:
            return by_address[address.strip().lower()]
    if client is not None:
        return next(iter(by_address.values()), None)
    return None


def mail_ingest(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None = None,
    client: Client | None = None,
    recipients: Sequence[str] = (),
) -> IngestResult:
    """Store and process one raw message (see the module docstring).

    The client is the mailbox's, else ``client``, else the one whose mailbox is among
    ``recipients`` (the envelope recipients of the LMTP listener); with none the message is
    quarantined without a client. Database errors propagate (the caller retries later:
    nothing was stored); any other failure quarantines the message."""
    if mailbox is None:
        mailbox = _mailbox_for(recipients, client)
    if mailbox is not None:
        client = mailbox.client
    return _ingest(raw=raw, source=source, mailbox=mailbox, client=client, recipients=recipients)


@transaction.atomic
def _ingest(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None,
    client: Client | None,
    recipients: Sequence[str],
) -> IngestResult:
    message_id = headers.message_id_of(raw)
    key = headers.dedup_key(raw, message_id)
    existing = _stored(client, key)
    if existing is not None:
        return _duplicate(existing)
    try:
        with transaction.atomic():
            inbound = InboundMail.objects.create(
                client=client,
                mailbox=mailbox,
                source=source,
                raw=raw,
                dedup_key=key,
                message_id=message_id,
                recipients=[r.strip().lower() for r in recipients][:50],
                result=Result.QUARANTINED,
            )
    except IntegrityError:
        # Another process stored the same message between our look-up and insert.
        existing = _stored(client, key)
        return _duplicate(existing) if existing else IngestResult(result=DUPLICATE, inbound_id=None)
    return _process(inbound, mailbox)


def _stored(client: Client | None, key: str) -> InboundMail | None:
    qs = InboundMail.objects.filter(dedup_key=key)
    qs = qs.filter(client=client) if client is not None else qs.filter(client__isnull=True)
    return qs.select_related("ticket").defer("raw").first()


def _duplicate(inbound: InboundMail) -> IngestResult:
    return IngestResult(
        result=DUPLICATE,
        inbound_id=inbound.pk,
        ticket=inbound.ticket.number if inbound.ticket else "",
        reason=_("已收过这封邮件（#%(id)s）") % {"id": inbound.pk},
    )


def _finish(inbound: InboundMail, result: str, reason: str = "", **links: Any) -> IngestResult:
    inbound.result = result
    inbound.reason = reason
    inbound.processed_at = timezone.now()
    for name, value in links.items():
        setattr(inbound, name, value)
    inbound.save()
    ticket = inbound.ticket
    return IngestResult(
        result=result,
        inbound_id=inbound.pk,
        ticket=ticket.number if ticket is not None else "",
        reason=reason,
    )


def _process(inbound: InboundMail, mailbox: Mailbox | None) -> IngestResult:
    if inbound.client_id is None:
        return _finish(
            inbound,
            Result.QUARANTINED,
            _("收件人不是任何已配置甲方的服务邮箱：%(to)s")
            % {"to": ", ".join(inbound.recipients) or "—"},
        )
    try:
        parsed = parse_message(
            bytes(inbound.raw), max_attachment_bytes=settings.KEFU_MAX_ATTACHMENT_BYTES
        )
    except MailParseError as exc:
        return _finish(inbound, Result.QUARANTINED, _("无法解析：%(r)s") % {"r": exc.reason})
    except Exception as exc:
        logger.exception("parser failed on inbound mail %s", inbound.pk)
        return _finish(
            inbound, Result.QUARANTINED, _("解析出错：%(r)s") % {"r": f"{type(exc).__name__}"}
        )
    inbound.from_address = parsed.from_address[:254]
    inbound.subject = parsed.subject[:300]
    try:
        with transaction.atomic():
            return _apply(inbound, mailbox, parsed)
    except DatabaseError:
        raise
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        logger.exception("processing failed on inbound mail %s", inbound.pk)
        inbound.ticket = None
        inbound.ticket_message = None
        return _finish(
            inbound, Result.QUARANTINED, _("处理出错：%(r)s") % {"r": f"{type(exc).__name__}"}
        )


def _apply(inbound: InboundMail, mailbox: Mailbox | None, parsed: ParsedMail) -> IngestResult:
    assert inbound.client_id is not None
    client = inbound.client
    assert client is not None
    ticket = thread_ticket(client=client, parsed=parsed)
    own = Mailbox.objects.filter(address__iexact=parsed.from_address)
    if parsed.from_address and own.exists():
        return _finish(
            inbound, Result.IGNORED, _("来自 kefu 自己的服务邮箱（防止邮件循环）"), ticket=ticket
        )
    if parsed.bounce:
        failing = _mark_failing(client, parsed.bounced_recipients)
        return _finish(
            inbound,
            Result.IGNORED,
            _("退信：%(n)s 个地址标记为投递失败") % {"n": failing},
            ticket=ticket,
        )
    if parsed.auto_reply:
        return _finish(inbound, Result.IGNORED, _("自动回复"), ticket=ticket)
    author = parsed.from_name or parsed.from_address
    kept, skipped = _sort_attachments(parsed)
    body, oversize = _body(parsed, skipped)
    taken = ticket_intake(
        client=client,
        channel=Channel.EMAIL,
        ticket=ticket,
        message=Incoming(
            text=body,
            html=parsed.html,
            attachments=kept,
            author_name=author[:200],
            external_id=parsed.message_id[:200],
            channel_ids=_channel_ids(inbound),
        ),
        subject=parsed.subject.strip() or _("（无主题）"),
        customer=CustomerData(name=parsed.from_name[:200], email=parsed.from_address),
    )
    links = {"ticket": taken.ticket, "ticket_message": taken.message}
    if taken.duplicate:
        return _finish(inbound, Result.IGNORED, _("工单中已有这封邮件"), **links)
    if not taken.created:
        return _finish(inbound, Result.APPENDED, oversize, **links)
    _acknowledge(ticket=taken.ticket, mailbox=mailbox, parsed=parsed)
    return _finish(inbound, Result.CREATED, oversize, **links)


def _channel_ids(inbound: InboundMail) -> dict[str, str]:
    """The ids a ticket message from this mail is recognised by: its Message-ID, or the
    digest of its bytes when it has none (as the mail itself is: ``headers.dedup_key``)."""
    if inbound.message_id:
        return {"message_id": inbound.message_id[:500]}
    return {"sha256": inbound.dedup_key.removeprefix("sha256:")}


def thread_ticket(*, client: Client, parsed: ParsedMail) -> Ticket | None:
    """The ticket a message belongs to: a ticket number of the client in the subject, then
    the nearest stored Message-ID among In-Reply-To and References (newest first)."""
    numbers = parsed.ticket_numbers
    if numbers:
        found = Ticket.objects.filter(client=client, number__in=numbers).order_by("-id").first()
        if found is not None:
            return found
    ids = [*reversed(parsed.in_reply_to), *reversed(parsed.references)]
    if not ids:
        return None
    known: dict[str, int] = {}
    for mid, ticket_id in OutboundMail.objects.filter(
        client=client, message_id__in=ids
    ).values_list("message_id", "ticket_id"):
        known[mid] = ticket_id
    for mid, ticket_id in InboundMail.objects.filter(
        client=client, message_id__in=ids, ticket__isnull=False
    ).values_list("message_id", "ticket_id"):
        if ticket_id is not None:
            known.setdefault(mid, ticket_id)
    for mid in ids:
        if mid in known:
            return Ticket.objects.filter(pk=known[mid]).first()
    return None


def _body(parsed: ParsedMail, skipped: Sequence[MailAttachment]) -> tuple[str, str]:
    """The message text, with a line naming each attachment kefu does not keep (too large,
    or a type refused for uploads: programs, scripts, HTML); and that note. The raw mail
    still holds them."""
    names = [f"{a.filename or 'attachment'} ({a.size} B)" for a in skipped]
    note = _("未保存的附件：%(names)s") % {"names": "、".join(names)} if names else ""
    text = parsed.text if parsed.text.strip() else ("" if parsed.html else _("（邮件无正文）"))
    return (f"{text}\n\n[{note}]" if note else text), note


def _keepable(part: MailAttachment) -> bool:
    """Within the size limit and of a type uploads may have (sniffed from its bytes)."""
    if part.oversize or part.content is None:
        return False
    verdict = check_upload(
        head=part.content[:HEAD_BYTES],
        filename=_safe_filename(part.filename),
        size=len(part.content),
        max_bytes=settings.KEFU_MAX_ATTACHMENT_BYTES,
    )
    return verdict.problem is None


def _sort_attachments(parsed: ParsedMail) -> tuple[list[ContentFile[bytes]], list[MailAttachment]]:
    """The files kefu keeps on the message (at most ``KEFU_MAX_ATTACHMENTS``: the intake
    checks them as uploads), and the parts it leaves in the raw mail only."""
    kept: list[ContentFile[bytes]] = []
    skipped: list[MailAttachment] = []
    for part in parsed.attachments:
        if (
            part.content is not None
            and len(kept) < settings.KEFU_MAX_ATTACHMENTS
            and _keepable(part)
        ):
            kept.append(ContentFile(part.content, name=_safe_filename(part.filename)))
        else:
            skipped.append(part)
    return kept, skipped


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip().lstrip(".")
    return (base or "attachment")[:200]


def _mark_failing(client: Client, addresses: Sequence[str]) -> int:
    now = timezone.now()
    count = 0
    for address in {a.strip().lower() for a in addresses if a.strip()}:
        status, _created = MailAddressStatus.objects.get_or_create(client=client, address=address)
        status.failing = True
        status.bounces += 1
        status.last_bounce_at = now
        status.save()
        count += 1
    return count


def address_failing(*, client_id: int, address: str) -> bool:
    return MailAddressStatus.objects.filter(
        client_id=client_id, address=address.strip().lower(), failing=True
    ).exists()


def contract_wants_ack(ticket: Ticket) -> bool:
    """The client's active SLA policy has a 确认登记 (acknowledge) target for this ticket."""
    targets = sla_targets_for(
        client_id=ticket.client_id,
        channel=ticket.channel,
        priority=ticket.priority,
        kind=ticket.kind,
    )
    return Metric.ACKNOWLEDGE in targets


def _acknowledge(*, ticket: Ticket, mailbox: Mailbox | None, parsed: ParsedMail) -> str:
    """Queue the acknowledgement of a new ticket; returns why not, or ""."""
    from kefu.mail.outbound import outbound_queue

    address = parsed.from_address
    if mailbox is None or not mailbox.acknowledge or not mailbox.can_send:
        return "mailbox sends no acknowledgements"
    if not address or headers.is_noreply(address):
        return "no address to answer"
    if not contract_wants_ack(ticket):
        return "contract has no acknowledge target"
    if address_failing(client_id=ticket.client_id, address=address):
        return "address is failing"
    since = timezone.now() - timedelta(hours=1)
    recent = OutboundMail.objects.filter(
        client_id=ticket.client_id,
        kind=OutboundKind.ACK,
        to_address=address,
        created_at__gte=since,
    ).count()
    if recent >= ACK_PER_HOUR:
        return "rate limited"
    outbound_queue(
        ticket=ticket,
        mailbox=mailbox,
        kind=OutboundKind.ACK,
        to_address=address,
        parent_ids=[parsed.message_id] if parsed.message_id else [],
    )
    return ""


@transaction.atomic
def mail_reprocess(*, inbound: InboundMail, actor: User | None) -> IngestResult:
    """Run a quarantined message through ingestion again (after a parser fix, or after a
    mailbox was configured for its recipient). Anything else is refused."""
    inbound = InboundMail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.result != Result.QUARANTINED:
        raise ValidationError(_("只有隔离中的邮件可以重新处理。"))
    mailbox = inbound.mailbox
    if inbound.client_id is None:
        mailbox = _mailbox_for(inbound.recipients)
        if mailbox is not None:
            if _stored(mailbox.client, inbound.dedup_key) is not None:
                result = _finish(inbound, Result.IGNORED, _("该甲方已收过这封邮件"))
                _audit_reprocess(inbound, actor, result)
                return result
            inbound.client = mailbox.client
            inbound.mailbox = mailbox
    inbound.attempts += 1
    result = _process(inbound, mailbox)
    _audit_reprocess(inbound, actor, result)
    return result


def _audit_reprocess(inbound: InboundMail, actor: User | None, result: IngestResult) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=inbound,
        field="result",
        reason="reprocess",
        data={"result": result.result, "ticket": result.ticket},
    )


@transaction.atomic
def mail_raw_download(*, inbound: InboundMail, actor: User | None, request: Any = None) -> bytes:
    """The raw message for an admin; the access is recorded (it holds personal data)."""
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=inbound, field="raw", request=request)
    return bytes(inbound.raw)


@transaction.atomic
def mailbox_record_poll(*, mailbox: Mailbox, ok: bool, error: str = "") -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_poll_at=timezone.now(), last_poll_ok=ok, last_poll_error=error[:2000]
    )
