"""Every write on SMS: queue one (checked against the number's rate limit, recorded, handed
to the task queue in the same transaction), send it through the configured backend, retry
it with back-off, and let staff send a failed one again.

The task row is written in the caller's transaction (database task backend): the SMS is
sent after the commit, or never if the work that asked for it rolled back."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.privacy.crypto import normalise_phone
from kefu.privacy.fields import phone_index
from kefu.privacy.pii import mask_phone
from kefu.sms import tasks
from kefu.sms.backends import Outgoing, SmsRefused, sms_backend
from kefu.sms.models import SmsMessage, SmsStatus, SmsTemplate

logger = logging.getLogger(__name__)

# A row still "sending" after this long belongs to a worker that died.
STALE_SENDING = timedelta(minutes=10)


class SmsRateLimited(ValidationError):
    """Too many SMS to this number lately; ``retry_after`` says when the next may go."""

    def __init__(self, message: str, *, retry_after: timedelta) -> None:
        super().__init__(message, code="sms_rate_limited")
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` SMS to one number within ``window``."""

    count: int
    window: timedelta


def rate_limits() -> list[RateLimit]:
    """The per-number limits (settings ``KEFU_SMS_PER_NUMBER``: ``count/seconds`` pairs)."""
    limits = []
    for part in settings.KEFU_SMS_PER_NUMBER.split(","):
        count, _sep, seconds = part.strip().partition("/")
        limits.append(RateLimit(int(count), timedelta(seconds=int(seconds))))
    return limits


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4, 8 … minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


def render(text: str, params: Mapping[str, str]) -> str:
    """The template's text with its ``{name}`` placeholders filled (others left as typed)."""
    for name, value in params.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def sms_number_check(value: str) -> str:
    """The number as sent (digits, a mainland ``+86`` dropped); ValidationError when it
    cannot be a mobile number."""
    digits = normalise_phone(value or "")
    if not (digits.startswith("1") and len(digits) == 11):
        raise ValidationError(
            {"phone": _("请输入 11 位手机号码 / Enter an 11-digit mobile number")}
        )
    return digits


def sms_rate_check(*, to_key: str, now: datetime) -> None:
    """Refuse (:class:`SmsRateLimited`) an SMS to a number that had its share lately,
    whatever client sent them: a number is flooded by kefu as a whole."""
    for limit in rate_limits():
        since = now - limit.window
        recent = list(
            SmsMessage.objects.filter(to_key=to_key, created_at__gt=since)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[: limit.count]
        )
        if len(recent) >= limit.count:
            wait = recent[-1] + limit.window - now
            seconds = max(1, int(wait.total_seconds()))
            raise SmsRateLimited(
                _(
                    "发送过于频繁，请 %(s)s 秒后再试 / Too many messages to this number: "
                    "try again in %(s)s seconds"
                )
                % {"s": seconds},
                retry_after=wait,
            )


@transaction.atomic
def sms_send(
    *,
    client: Client,
    to: str,
    purpose: str,
    params: Mapping[str, str],
    customer_id: int | None = None,
    ticket_id: int | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> SmsMessage:
    """Record an SMS to ``to`` from the client's template for ``purpose`` and queue its
    sending (after the caller's commit). ``expires_at``: it is worth nothing afterwards
    (a sign-in code), so it is not retried past it.

    Refused before anything is written (ValidationError): a number that is not a mobile,
    no template for the purpose, or the number's rate limit (:class:`SmsRateLimited`)."""
    now = now or timezone.now()
    number = sms_number_check(to)
    template = SmsTemplate.objects.filter(client=client, purpose=purpose).first()
    if template is None:
        raise ValidationError(
            _("甲方尚未配置“%(purpose)s”短信模板 / No SMS template for this purpose")
            % {"purpose": purpose}
        )
    key = phone_index(number)
    sms_rate_check(to_key=key, now=now)
    sms = SmsMessage.objects.create(
        client=client,
        to=number,
        to_key=key,
        to_masked=mask_phone(number),
        purpose=purpose,
        template=template,
        params={k: str(v) for k, v in params.items()},
        customer_id=customer_id,
        ticket_id=ticket_id,
        backend=settings.KEFU_SMS_BACKEND,
        created_at=now,
        next_attempt_at=now,
        expires_at=expires_at,
    )
    tasks.send_sms.enqueue(sms.pk)
    return sms


def _claim(sms_id: int, now: datetime) -> SmsMessage | None:
    with transaction.atomic():
        won = (
            SmsMessage.objects.filter(pk=sms_id)
            .filter(
                Q(status=SmsStatus.QUEUED, next_attempt_at__lte=now)
                | Q(status=SmsStatus.SENDING, next_attempt_at__lte=now - STALE_SENDING)
            )
            .update(status=SmsStatus.SENDING, next_attempt_at=now)
        )
    if not won:
        return None
    return SmsMessage.objects.select_related("template").get(pk=sms_id)


def _outgoing(sms: SmsMessage) -> Outgoing:
    template = sms.template
    if template is None:
        raise SmsRefused(
            "template", _("短信模板已删除 / The template was deleted"), retryable=False
        )
    params = {str(k): str(v) for k, v in dict(sms.params).items()}
    return Outgoing(
        to=str(sms.to),
        sign_name=template.sign_name,
        template_code=template.provider_code,
        params=params,
        text=render(template.text, params),
        reference=f"kefu-{sms.pk}",
    )


def _record_failure(sms: SmsMessage, refused: SmsRefused, now: datetime) -> str:
    attempts = sms.attempts + 1
    expired = sms.expires_at is not None and now + backoff(attempts) >= sms.expires_at
    final = not refused.retryable or attempts >= SmsMessage.MAX_ATTEMPTS or expired
    status = SmsStatus.FAILED if final else SmsStatus.QUEUED
    SmsMessage.objects.filter(pk=sms.pk).update(
        status=status,
        attempts=attempts,
        error=f"{refused.code}: {refused.message}"[:2000],
        next_attempt_at=None if final else now + backoff(attempts),
    )
    return status


def sms_deliver(*, sms_id: int, now: datetime | None = None) -> str:
    """Hand one due SMS to the backend now (outside any transaction: a slow provider holds
    no lock); returns its status afterwards (sent, queued for a retry, failed)."""
    now = now or timezone.now()
    sms = _claim(sms_id, now)
    if sms is None:
        row = SmsMessage.objects.filter(pk=sms_id).values_list("status", flat=True).first()
        return row or "missing"
    try:
        provider_id = sms_backend().send(_outgoing(sms))
    except SmsRefused as exc:
        logger.warning("sms %s not accepted: %s", sms.pk, exc)
        return _record_failure(sms, exc, now)
    except Exception as exc:
        logger.exception("sms %s failed", sms.pk)
        return _record_failure(sms, SmsRefused(type(exc).__name__, str(exc), retryable=True), now)
    SmsMessage.objects.filter(pk=sms.pk).update(
        status=SmsStatus.SENT,
        attempts=sms.attempts + 1,
        provider_id=provider_id[:128],
        error="",
        sent_at=timezone.now(),
        next_attempt_at=None,
    )
    return SmsStatus.SENT


def sms_retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send the SMS whose retry is due, first tries whose task has not run for a while (no
    worker) and those a dead worker left "sending"; returns how many were sent."""
    now = now or timezone.now()
    stale = now - STALE_SENDING
    due = SmsMessage.objects.filter(
        Q(status=SmsStatus.QUEUED, attempts__gt=0, next_attempt_at__lte=now)
        | Q(status=SmsStatus.QUEUED, next_attempt_at__lte=stale)
        | Q(status=SmsStatus.SENDING, next_attempt_at__lte=stale)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(sms_deliver(sms_id=pk, now=now) == SmsStatus.SENT for pk in ids)


@transaction.atomic
def sms_retry(*, sms: SmsMessage, actor: User | None) -> SmsMessage:
    """Staff send a failed SMS again: queued now with a fresh round of attempts."""
    if actor is not None and not actor.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    if sms.status != SmsStatus.FAILED:
        raise ValidationError(_("只能重发发送失败的短信 / Only a failed SMS can be sent again"))
    now = timezone.now()
    SmsMessage.objects.filter(pk=sms.pk).update(
        status=SmsStatus.QUEUED, attempts=0, next_attempt_at=now, expires_at=None
    )
    sms.status, sms.attempts, sms.next_attempt_at = SmsStatus.QUEUED, 0, now
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=sms, field="status", data={"retry": True}
    )
    tasks.send_sms.enqueue(sms.pk)
    return sms
