"""Reading a mailbox over IMAP (IMAPClient): polling, and IDLE where the server offers it.

Each message not yet marked ``$KefuDone`` is fetched without setting \\Seen
(``BODY.PEEK[]``), ingested in its own transaction, and only after that transaction has
committed is it flagged ``$KefuDone`` + \\Seen (and moved to the processed folder when the
mailbox has one). A crash in between re-reads the message on the next poll; ingestion
finds its Message-ID already stored ("duplicate") and the flag is set then."""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field

from django.db import close_old_connections
from imapclient import SEEN, IMAPClient

from kefu.mail.models import Mailbox, Security, Source
from kefu.mail.services import mail_ingest, mailbox_record_poll

logger = logging.getLogger(__name__)

DONE_FLAG = b"$KefuDone"
IDLE_SLICE_SECONDS = 5


@dataclass
class PollResult:
    mailbox: str
    results: Counter[str] = field(default_factory=Counter)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def connect(mailbox: Mailbox, timeout: float = 30) -> IMAPClient:
    context = ssl.create_default_context()
    imap = IMAPClient(
        mailbox.imap_host,
        port=mailbox.imap_port,
        ssl=mailbox.imap_security == Security.SSL,
        ssl_context=context if mailbox.imap_security == Security.SSL else None,
        timeout=timeout,
    )
    if mailbox.imap_security == Security.STARTTLS:
        imap.starttls(context)
    imap.login(mailbox.imap_user or mailbox.address, mailbox.imap_password)
    return imap


def _mark_done(imap: IMAPClient, mailbox: Mailbox, uid: int) -> None:
    imap.add_flags([uid], [DONE_FLAG, SEEN], silent=True)
    target = mailbox.imap_processed_folder.strip()
    if not target:
        return
    if not imap.folder_exists(target):
        imap.create_folder(target)
    if imap.has_capability("MOVE"):
        imap.move([uid], target)
    else:
        imap.copy([uid], target)
        imap.delete_messages([uid], silent=True)
        imap.uid_expunge([uid]) if imap.has_capability("UIDPLUS") else imap.expunge()


def drain(imap: IMAPClient, mailbox: Mailbox, result: PollResult, limit: int = 500) -> None:
    """Ingest every message of the folder not yet done, oldest first."""
    imap.select_folder(mailbox.imap_folder or "INBOX")
    uids = sorted(imap.search(["NOT", "KEYWORD", DONE_FLAG.decode()]))[:limit]
    for uid in uids:
        fetched = imap.fetch([uid], ["BODY.PEEK[]"]).get(uid)
        if not fetched or b"BODY[]" not in fetched:
            continue  # expunged by someone else meanwhile
        outcome = mail_ingest(raw=bytes(fetched[b"BODY[]"]), source=Source.IMAP, mailbox=mailbox)
        result.results[outcome.result] += 1
        _mark_done(imap, mailbox, uid)


def mailbox_poll(*, mailbox: Mailbox) -> PollResult:
    """Poll one mailbox once; the outcome is kept on the mailbox for the admin."""
    result = PollResult(mailbox=mailbox.address)
    try:
        imap = connect(mailbox)
        try:
            drain(imap, mailbox, result)
        finally:
            _logout(imap)
    except Exception as exc:
        logger.warning("polling %s failed: %s", mailbox.address, exc)
        result.error = f"{type(exc).__name__}: {exc}"
    mailbox_record_poll(mailbox=mailbox, ok=result.ok, error=result.error)
    return result


def mail_poll_all() -> list[PollResult]:
    """Poll every active mailbox that has an IMAP server, once."""
    mailboxes = Mailbox.objects.filter(active=True).exclude(imap_host="").select_related("client")
    return [mailbox_poll(mailbox=m) for m in mailboxes]


def _logout(imap: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # the connection is going away anyway
        imap.logout()


def mailbox_watch(
    *, mailbox: Mailbox, stop: threading.Event, idle_seconds: int = 300, retry_seconds: int = 60
) -> None:
    """Keep one mailbox drained until ``stop`` is set: IDLE when the server offers it (woken
    by new mail, re-issued every ``idle_seconds``), otherwise a poll every
    ``retry_seconds``. Connection failures are recorded and retried."""
    while not stop.is_set():
        result = PollResult(mailbox=mailbox.address)
        try:
            imap = connect(mailbox)
            try:
                while not stop.is_set():
                    drain(imap, mailbox, result)
                    mailbox_record_poll(mailbox=mailbox, ok=True)
                    close_old_connections()
                    if imap.has_capability("IDLE"):
                        _idle(imap, stop, idle_seconds)
                    else:
                        stop.wait(retry_seconds)
            finally:
                _logout(imap)
        except Exception as exc:
            logger.warning("watching %s failed: %s", mailbox.address, exc)
            mailbox_record_poll(mailbox=mailbox, ok=False, error=f"{type(exc).__name__}: {exc}")
            stop.wait(retry_seconds)


def _idle(imap: IMAPClient, stop: threading.Event, idle_seconds: int) -> None:
    imap.idle()
    try:
        waited = 0
        while waited < idle_seconds and not stop.is_set():
            if imap.idle_check(timeout=IDLE_SLICE_SECONDS):
                return
            waited += IDLE_SLICE_SECONDS
    finally:
        imap.idle_done()
