"""Reads of the email channel shared by pages and commands."""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.mail.models import InboundMail, Mailbox, Result


def inbound_quarantined(*, user: User) -> QuerySet[InboundMail]:
    """Quarantined messages the user may see, newest first, without their raw bytes."""
    return (
        InboundMail.objects.visible_to(user)
        .filter(result=Result.QUARANTINED)
        .select_related("client", "mailbox")
        .defer("raw")
        .order_by("-received_at", "-id")
    )


def mailboxes_visible(*, user: User) -> QuerySet[Mailbox]:
    return (
        Mailbox.objects.visible_to(user).select_related("client").order_by("client_id", "address")
    )
