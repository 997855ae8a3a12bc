from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.contracts.models import Client
from kefu.mail.models import Mailbox, Source
from kefu.mail.services import mail_ingest


class Command(BaseCommand):
    help = (
        "邮件渠道 / Email channel: ingest .eml files, poll or watch the mailboxes, run the "
        "LMTP/SMTP listener, retry queued outbound mail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser(
            "ingest", help="process .eml files exactly as the mailbox would; one JSON line each"
        )
        ingest.add_argument("--client", required=True, help="client code")
        ingest.add_argument("files", nargs="+")
        sub.add_parser("poll", help="poll every active IMAP mailbox once")
        sub.add_parser("watch", help="keep every active IMAP mailbox drained (IDLE)")
        listen = sub.add_parser("listen", help="LMTP/SMTP listener a mail server delivers to")
        listen.add_argument("--host", default="127.0.0.1")
        listen.add_argument("--port", type=int, default=2525)
        listen.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")
        sub.add_parser("send", help="send outbound mail whose retry is due")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        getattr(self, f"_{action}")(**opts)

    def _ingest(self, *, client: str, files: list[str], **_opts: Any) -> None:
        found = Client.objects.filter(code__iexact=client).first()
        if found is None:
            raise CommandError(f"no client with code {client!r}")
        paths = [Path(f) for f in files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"not a file: {', '.join(missing)}")
        for path in paths:
            result = mail_ingest(raw=path.read_bytes(), source=Source.FILE, client=found)
            line = {
                "file": str(path),
                "result": result.result,
                "ticket": result.ticket or None,
                "reason": result.reason or None,
            }
            self.stdout.write(json.dumps(line, ensure_ascii=False))
            self.stdout.flush()

    def _poll(self, **_opts: Any) -> None:
        from kefu.mail.imap import mail_poll_all

        failed = 0
        for result in mail_poll_all():
            counts = dict(result.results)
            self.stdout.write(
                json.dumps(
                    {"mailbox": result.mailbox, "results": counts, "error": result.error or None},
                    ensure_ascii=False,
                )
            )
            failed += not result.ok
        if failed:
            raise CommandError(f"{failed} mailbox(es) could not be polled")

    def _watch(self, **_opts: Any) -> None:
        from kefu.mail.imap import mailbox_watch

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        mailboxes = list(Mailbox.objects.filter(active=True).exclude(imap_host=""))
        if not mailboxes:
            raise CommandError("no active mailbox with an IMAP server")
        threads = [
            threading.Thread(target=mailbox_watch, kwargs={"mailbox": m, "stop": stop}, daemon=True)
            for m in mailboxes
        ]
        for t in threads:
            t.start()
        self.stdout.write(f"watching {len(threads)} mailbox(es); Ctrl-C to stop")
        try:
            while not stop.is_set():
                time.sleep(1)
        except KeyboardInterrupt:
            stop.set()
        for t in threads:
            t.join(timeout=10)

    def _listen(self, *, host: str, port: int, lmtp: bool, **_opts: Any) -> None:
        from kefu.mail.listener import make_listener

        controller = make_listener(host=host, port=port, lmtp=lmtp)
        controller.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"{'LMTP' if lmtp else 'SMTP'} listener on {host}:{port}")
        try:
            while not stop.is_set():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()

    def _send(self, **_opts: Any) -> None:
        from kefu.mail.outbound import outbound_retry_due

        self.stdout.write(json.dumps({"sent": outbound_retry_due()}))
