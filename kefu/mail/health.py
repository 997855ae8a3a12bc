"""The mail app's readiness information: active mailboxes that cannot send answers."""

from __future__ import annotations

from kefu.core.health import CheckOutcome
from kefu.mail.models import Mailbox


def check_mail() -> CheckOutcome:
    """How many active mailboxes have no SMTP server (their tickets' replies cannot go
    out). Counted, never named: the answer is served without login."""
    active = Mailbox.objects.filter(active=True)
    total = active.count()
    unable = active.filter(smtp_host="").count()
    return CheckOutcome(
        ok=unable == 0, detail=f"{unable} of {total} active mailboxes cannot send"
    )
