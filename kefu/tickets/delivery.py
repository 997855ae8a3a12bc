"""Every write on a reply's delivery (kefu.tickets.channels says what the adapters do).

A delivery is written with its message in the reply's transaction, with the task row that
sends it (database task backend: both commit or neither) — unless its transport confirms
deliveries by itself (a chat widget's acknowledgement): then the periodic sweep sends what
is still unconfirmed after the adapter's ``confirm_within``. Sending claims the row
(queued → sending), hands it to the channel's adapter outside any transaction and records
the outcome: accepted (sent, and the response clocks are met at the accepted instant), a
retryable failure (queued again, retried with exponential back-off by
:func:`delivery_retry_due`, which the scheduler calls), or a permanent one (failed, with the
transport's reason, until an agent retries it). A row left "sending" by a worker that died
is taken again after ``STALE_SENDING``: a crash between the transport's acceptance and the
mark sends again (at least once; a mail keeps its Message-ID)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.core.prepared import PreparedInsert, PreparedQuery
from kefu.sla import services as sla
from kefu.tickets import events, tasks
from kefu.tickets.channels import (
    Accepted,
    DeliveryFailed,
    channel_adapter,
    channels_confirming,
    transport_problem,
)
from kefu.tickets.models import ACCEPTED, Delivery, DeliveryStatus, Message, Ticket

logger = logging.getLogger(__name__)

# A row still "sending" after this long belongs to a worker that died.
STALE_SENDING = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 2, 4, 8 … minutes."""
    return timedelta(minutes=2**attempts)


def delivery_queue(
    *,
    ticket: Ticket,
    message: Message,
    at: datetime,
    data: Mapping[str, Any] | None,
    counts_as_reply: bool = True,
    checked: bool = False,
) -> Delivery:
    """Inside the reply's transaction: the message's delivery, prepared by its channel's
    adapter and queued for sending (or already accepted or failed, when the adapter knows
    at once). ``data``: the reply form's channel fields; ``None`` for a notice kefu writes
    itself. ``counts_as_reply``: an agent's reply, which meets the response clocks once
    accepted (an escalation notice does not). A channel with no transport gives a failed
    delivery saying what to configure; :func:`kefu.tickets.services.ticket_reply` refuses
    before that (``checked``: the caller found the transport working just now)."""
    adapter = channel_adapter(ticket.channel)
    wait = adapter.confirm_within if adapter is not None else None
    delivery = _NEW_DELIVERY.create(
        client_id=ticket.client_id,
        ticket=ticket,
        message=message,
        channel=ticket.channel,
        is_reply=counts_as_reply,
        created_at=at,
        next_attempt_at=at if wait is None else at + wait,
    )
    problem = None if checked else transport_problem(ticket)
    try:
        if adapter is None or problem:
            raise DeliveryFailed(problem or "", retryable=False)
        accepted = adapter.prepare(delivery=delivery, data=data)
    except DeliveryFailed as exc:
        _record_failure(delivery, exc, at)
        return delivery
    if accepted is not None:
        _accept(delivery, accepted, ticket)
    elif wait is None:
        tasks.send_delivery.enqueue(delivery.pk)
    # else the transport confirms it by itself, mostly within ``wait``: no task row; what
    # is still unconfirmed by ``next_attempt_at`` is sent by delivery_retry_due.
    return delivery


def _accept(delivery: Delivery, accepted: Accepted, ticket: Ticket) -> None:
    """Record the acceptance and meet the response clocks at the accepted instant (in the
    caller's transaction)."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        attempts=F("attempts") + 1,
        accepted_at=accepted.at,
        external_id=accepted.external_id[:300],
        next_attempt_at=None,
    )
    delivery.status, delivery.accepted_at = DeliveryStatus.SENT, accepted.at
    delivery.attempts += 1
    if delivery.is_reply:
        sla.sla_on_reply(ticket=ticket, at=accepted.at)
    events.ticket_changed(ticket, "delivery")


def _record_failure(delivery: Delivery, failure: DeliveryFailed, now: datetime) -> str:
    attempts = delivery.attempts + 1
    final = not failure.retryable or attempts >= Delivery.MAX_ATTEMPTS
    status = DeliveryStatus.FAILED if final else DeliveryStatus.QUEUED
    # Only a delivery still on its way: the transport may have confirmed it meanwhile
    # (a chat widget's acknowledgement arrives on another thread).
    Delivery.objects.filter(pk=delivery.pk, status__in=_ON_ITS_WAY).update(
        status=status,
        attempts=attempts,
        reason=failure.reason[:2000],
        next_attempt_at=None if final else now + backoff(attempts),
    )
    delivery.status, delivery.attempts, delivery.reason = status, attempts, failure.reason
    events.ticket_changed(delivery.ticket, "delivery")
    return status


_ON_ITS_WAY = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    with transaction.atomic():
        won = (
            Delivery.objects.filter(pk=delivery_id)
            .filter(
                Q(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
                # left "sending" by a worker that died
                | Q(status=DeliveryStatus.SENDING, next_attempt_at__lte=now - STALE_SENDING)
            )
            .update(status=DeliveryStatus.SENDING, next_attempt_at=now)
        )
    if not won:
        return None
    return Delivery.objects.select_related("ticket", "message").get(pk=delivery_id)


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Hand one due delivery to its channel's transport now; returns its status afterwards
    (sent, queued for a retry, failed). Not in a transaction: a slow server holds no lock."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        row = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return row or "missing"
    adapter = channel_adapter(delivery.channel)
    try:
        if adapter is None:
            raise DeliveryFailed(transport_problem(delivery.ticket) or "", retryable=True)
        accepted = adapter.send(delivery=delivery)
    except DeliveryFailed as exc:
        logger.warning("delivery %s not accepted: %s", delivery.pk, exc.reason)
        return _record_failure(delivery, exc, now)
    except Exception as exc:
        # A fault of the adapter or an error the transport did not classify: try again.
        logger.exception("delivery %s failed", delivery.pk)
        return _record_failure(
            delivery, DeliveryFailed(f"{type(exc).__name__}: {exc}", retryable=True), now
        )
    delivery_accept(delivery=delivery, accepted=accepted)
    return DeliveryStatus.SENT


_NEW_DELIVERY = PreparedInsert(Delivery)
# Read on every acceptance (a chat widget acknowledges each message): SQL written once.
_TICKET_LOCKED = PreparedQuery(lambda pk: Ticket.objects.filter(pk=pk).select_for_update())
_DELIVERY_STATUS = PreparedQuery(
    lambda pk: Delivery.objects.filter(pk=pk).only("status").order_by()[:1]
)


@transaction.atomic
def delivery_accept(*, delivery: Delivery, accepted: Accepted) -> bool:
    """The transport took the delivery (its adapter's :meth:`send` returned, or the
    transport confirmed it by itself later: a chat widget acknowledging a message it
    showed). Meets the response clocks at ``accepted.at``. A delivery that had failed is
    accepted too (the customer's chat window came back and showed it); one already accepted
    keeps its first instant. Returns whether this call accepted it."""
    ticket = _TICKET_LOCKED.first(delivery.ticket_id)
    if ticket is None:
        raise Ticket.DoesNotExist
    current = _DELIVERY_STATUS.first(delivery.pk)
    if current is None or current.status in ACCEPTED:
        return False
    _accept(delivery, accepted, ticket)
    return True


def delivery_retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send the deliveries whose retry is due, first tries whose task has not run for a
    while (no worker), first tries of a self-confirming transport left unconfirmed (chat),
    and those a dead worker left "sending"; returns how many were accepted."""
    now = now or timezone.now()
    stale = now - STALE_SENDING
    due = Delivery.objects.filter(
        Q(status=DeliveryStatus.QUEUED, attempts__gt=0, next_attempt_at__lte=now)
        # first tries of a transport that confirms by itself (no task was queued)
        | Q(
            status=DeliveryStatus.QUEUED,
            channel__in=channels_confirming(),
            next_attempt_at__lte=now,
        )
        | Q(status=DeliveryStatus.QUEUED, next_attempt_at__lte=stale)
        | Q(status=DeliveryStatus.SENDING, next_attempt_at__lte=stale)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(delivery_send(delivery_id=pk, now=now) == DeliveryStatus.SENT for pk in ids)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, actor: User | None) -> Delivery:
    """The agent sends a failed reply again: queued now, with a fresh round of attempts.
    Refused when the channel still has no transport for the client."""
    if actor is not None and not actor.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    if not delivery.resendable:
        raise ValidationError(_("只能重发发送失败的回复 / Only a failed reply can be sent again"))
    problem = transport_problem(delivery.ticket)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=now
    )
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.QUEUED, 0, now
    tasks.send_delivery.enqueue(delivery.pk)
    events.ticket_changed(delivery.ticket, "delivery")
    return delivery


def delivery_delivered(*, delivery_id: int, at: datetime) -> bool:
    """The channel reports the reply reached the customer's device or inbox (a read
    receipt, a delivery report). Only an accepted delivery can be delivered."""
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.DELIVERED, delivered_at=at
        )
    )
