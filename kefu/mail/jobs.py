"""The email channel's periodic jobs (registered in its AppConfig): each its own task, so a
mail server that is down stops neither the other job nor anything else."""

from __future__ import annotations

from datetime import datetime

from kefu.mail.imap import mail_poll_all
from kefu.mail.outbound import outbound_retry_due


def retry(now: datetime | None) -> None:
    """Send outbound mail whose retry is due (and mail a dead worker left "sending")."""
    outbound_retry_due(now=now)


def poll(now: datetime | None) -> None:
    """Poll every active IMAP mailbox once."""
    mail_poll_all()
