"""An LMTP (or SMTP) listener a mail server delivers to (aiosmtpd).

The message is ingested through the same service as IMAP, once per client among the
recipients (a recipient of no configured mailbox: quarantined without a client), and the
server answers ``250`` only after the ingestion transaction has committed; ``451`` (try
again later) when the database failed, so the sending server keeps the message."""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections

from kefu.mail.models import Mailbox, Source
from kefu.mail.services import IngestResult, mail_ingest, mailbox_for_address

logger = logging.getLogger(__name__)

# Larger messages are refused at DATA (552) before anything is stored.
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


def deliver(raw: bytes, recipients: list[str]) -> list[IngestResult]:
    """Ingest one delivered message for each client among its envelope recipients."""
    close_old_connections()
    try:
        by_client: dict[int, Mailbox] = {}
        for address in recipients:
            mailbox = mailbox_for_address(address)
            if mailbox is not None:
                by_client.setdefault(mailbox.client_id, mailbox)
        if not by_client:
            return [mail_ingest(raw=raw, source=Source.LMTP, recipients=recipients)]
        return [
            mail_ingest(raw=raw, source=Source.LMTP, mailbox=m, recipients=recipients)
            for m in by_client.values()
        ]
    finally:
        close_old_connections()


class IngestHandler:
    def __init__(self, lmtp: bool) -> None:
        self.lmtp = lmtp

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        recipients = list(envelope.rcpt_tos)
        try:
            results = await sync_to_async(deliver, thread_sensitive=False)(raw, recipients)
        except DatabaseError as exc:
            logger.warning("delivery deferred: %s", exc)
            status = "451 4.3.0 kefu could not store the message now, try again later"
        else:
            logger.info("delivered: %s", [r.result for r in results])
            status = "250 2.0.0 OK stored by kefu"
        if self.lmtp:
            # LMTP answers DATA once per recipient; the message was stored for all of them.
            return "\r\n".join([status] * max(len(recipients), 1))
        return status


class _LMTPController(Controller):
    def factory(self) -> Any:
        return LMTP(self.handler, **self.SMTP_kwargs)


def make_listener(*, host: str, port: int, lmtp: bool) -> Controller:
    """A started-on-demand listener (``.start()``/``.stop()``); LMTP or SMTP."""
    handler = IngestHandler(lmtp)
    cls = _LMTPController if lmtp else Controller
    return cls(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)
