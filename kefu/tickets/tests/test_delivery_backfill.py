"""Replies written before deliveries existed get one (tickets migration 0013), so past
figures stay: a mailed reply keeps its mail's outcome, any other counts as sent at its time."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from kefu.conftest import Tenant
from kefu.mail.models import OutboundMail
from kefu.tickets.models import Delivery, Message

backfill = importlib.import_module(
    "kefu.tickets.migrations.0013_deliveries_for_earlier_replies"
).backfill


def test_earlier_replies_get_their_deliveries(tenant_a: Tenant) -> None:
    replies = list(Message.objects.filter(direction="out").order_by("pk"))
    mailed, notice = replies  # the fixture's reply and its escalation notice
    Delivery.objects.all().delete()
    sent_at = mailed.created_at + timedelta(seconds=40)
    OutboundMail.objects.filter(ticket_message=mailed).update(status="sent", sent_at=sent_at)
    OutboundMail.objects.filter(ticket_message=notice).delete()
    Message.objects.filter(pk=notice.pk).update(created_at=timezone.now() - timedelta(days=30))

    backfill(apps, None)

    first = Delivery.objects.get(message=mailed)
    assert first.status == "sent" and first.accepted_at == sent_at
    second = Delivery.objects.get(message=notice)
    notice.refresh_from_db()
    assert second.status == "sent" and second.accepted_at == notice.created_at
    backfill(apps, None)  # run again: nothing twice
    assert Delivery.objects.count() == 2
