"""Signing in to the portal without a password: a six-digit code by SMS to a phone, or a
one-time link by email to an address.

Only a keyed hash of a code or link is stored. A code lives ``KEFU_PORTAL_CODE_MINUTES``, a
link ``KEFU_PORTAL_LINK_MINUTES``; each works once. A code takes ``KEFU_PORTAL_MAX_GUESSES``
wrong guesses, then it is dead and the phone or address is locked out for
``KEFU_PORTAL_LOCKOUT_MINUTES``. New codes and links are limited per phone or address
(``KEFU_PORTAL_PER_ADDRESS_HOUR``) and per IP address (``KEFU_PORTAL_PER_IP_HOUR``) in any
hour, and an SMS also by the number's own limit (:mod:`kefu.sms.services`).

Proving the secret finds the customer by that identifier, verified only
(:func:`kefu.portal.services.portal_customer_for`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.portal import mail, services, tasks
from kefu.portal.models import PortalSite, SignInChallenge, SignInMethod
from kefu.privacy.crypto import normalise_email
from kefu.privacy.fields import email_index, phone_index
from kefu.sms.models import Purpose
from kefu.sms.services import sms_number_check, sms_send
from kefu.tickets.models import Customer


class SignInRefused(ValidationError):
    """A sign-in step refused, with the message to show."""


def _hash(salt: str, secret: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{salt}:{secret}".encode(), hashlib.sha256
    ).hexdigest()


def _minutes(name: str) -> timedelta:
    return timedelta(minutes=int(getattr(settings, name)))


def _limits_check(*, key: str, ip: str | None, now: datetime) -> None:
    """Refuse a new code or link for a locked-out or busy identifier or IP address."""
    locked_since = now - _minutes("KEFU_PORTAL_LOCKOUT_MINUTES")
    locked = (
        SignInChallenge.objects.filter(
            key=key,
            created_at__gt=locked_since,
            attempts__gte=settings.KEFU_PORTAL_MAX_GUESSES,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if locked is not None:
        wait = locked + _minutes("KEFU_PORTAL_LOCKOUT_MINUTES") - now
        raise SignInRefused(
            _(
                "验证码错误次数过多，已暂时锁定，请 %(m)s 分钟后再试 / Too many wrong codes: "
                "locked, try again in %(m)s minutes"
            )
            % {"m": max(1, int(wait.total_seconds() // 60) + 1)}
        )
    hour = now - timedelta(hours=1)
    if (
        SignInChallenge.objects.filter(key=key, created_at__gt=hour).count()
        >= settings.KEFU_PORTAL_PER_ADDRESS_HOUR
    ):
        raise SignInRefused(
            _(
                "请求过于频繁，请一小时后再试 / "
                "Too many requests for this phone or address: try again in an hour"
            )
        )
    if (
        ip
        and SignInChallenge.objects.filter(ip=ip, created_at__gt=hour).count()
        >= settings.KEFU_PORTAL_PER_IP_HOUR
    ):
        raise SignInRefused(
            _("请求过于频繁，请稍后再试 / Too many sign-in requests from your network: try later")
        )


def _create(
    *,
    site: PortalSite,
    method: str,
    key: str,
    value: str,
    secret: str,
    ip: str | None,
    now: datetime,
    lifetime: timedelta,
) -> SignInChallenge:
    salt = secrets.token_hex(8)
    challenge = SignInChallenge.objects.create(
        client_id=site.client_id,
        method=method,
        key=key,
        value=value,
        secret_hash=f"{salt}${_hash(salt, secret)}",
        ip=ip,
        created_at=now,
        expires_at=now + lifetime,
    )
    return challenge


@transaction.atomic
def signin_code_send(
    *, site: PortalSite, phone: str, ip: str | None, now: datetime | None = None
) -> SignInChallenge:
    """Send a sign-in code to ``phone`` by SMS. Refused (ValidationError, nothing written)
    when the portal does not offer SMS sign-in, the number is not a mobile, or a limit
    says wait."""
    now = now or timezone.now()
    if not site.sign_in_sms:
        raise SignInRefused(_("本门户未开通短信登录 / SMS sign-in is not offered here"))
    number = sms_number_check(phone)
    key = phone_index(number)
    _limits_check(key=key, ip=ip, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    lifetime = _minutes("KEFU_PORTAL_CODE_MINUTES")
    challenge = _create(
        site=site,
        method=SignInMethod.SMS,
        key=key,
        value=number,
        secret=code,
        ip=ip,
        now=now,
        lifetime=lifetime,
    )
    sms_send(
        client=site.client,
        to=number,
        purpose=Purpose.LOGIN_CODE,
        params={"code": code, "minutes": str(int(lifetime.total_seconds() // 60))},
        expires_at=challenge.expires_at,
        now=now,
    )
    return challenge


@transaction.atomic
def signin_link_send(
    *, site: PortalSite, email: str, ip: str | None, link_base: str, now: datetime | None = None
) -> SignInChallenge:
    """Mail a one-time sign-in link to ``email`` (after the commit). ``link_base`` is the
    absolute URL the link's ``<challenge id>/<token>/`` is appended to."""
    now = now or timezone.now()
    if not site.sign_in_email:
        raise SignInRefused(_("本门户未开通邮件登录 / Email sign-in is not offered here"))
    address = normalise_email(email or "")
    if "@" not in address or len(address) > 254 or " " in address:
        raise SignInRefused(_("请输入有效的邮箱地址 / Enter a valid email address"))
    key = email_index(address)
    _limits_check(key=key, ip=ip, now=now)
    token = secrets.token_urlsafe(24)
    lifetime = _minutes("KEFU_PORTAL_LINK_MINUTES")
    challenge = _create(
        site=site,
        method=SignInMethod.EMAIL,
        key=key,
        value=address,
        secret=token,
        ip=ip,
        now=now,
        lifetime=lifetime,
    )
    challenge.pending_link = f"{link_base}{challenge.pk}/{token}/"
    challenge.save(update_fields=["pending_link"])
    tasks.send_signin_link.enqueue(challenge.pk)
    return challenge


def signin_link_mail_send(*, challenge_id: int) -> bool:
    """Mail a waiting sign-in link (the task queue, after the commit), then forget it;
    returns whether a mail was written."""
    challenge = (
        SignInChallenge.objects.filter(pk=challenge_id, method=SignInMethod.EMAIL)
        .exclude(pending_link="")
        .first()
    )
    if challenge is None:
        return False
    site = PortalSite.objects.select_related("client").get(client_id=challenge.client_id)
    minutes = max(1, int((challenge.expires_at - challenge.created_at).total_seconds() // 60))
    try:
        mail.signin_link_mail(
            site=site, to=str(challenge.value), link=str(challenge.pending_link), minutes=minutes
        )
    finally:
        SignInChallenge.objects.filter(pk=challenge.pk).update(pending_link="")
    return True


@dataclass(frozen=True)
class Proved:
    """A secret proved: the challenge's method and the phone or address it went to."""

    method: str
    value: str


def _check(challenge: SignInChallenge | None, secret: str, now: datetime) -> Proved:
    if challenge is None or challenge.used_at is not None:
        raise SignInRefused(
            _(
                "该验证码或链接已使用或无效，请重新获取 / "
                "This code or link was used or is not valid: ask for a new one"
            )
        )
    if challenge.attempts >= settings.KEFU_PORTAL_MAX_GUESSES:
        raise SignInRefused(
            _("验证码错误次数过多，请稍后重新获取 / Too many wrong codes: ask for a new one later")
        )
    if now >= challenge.expires_at:
        raise SignInRefused(
            _("验证码或链接已过期，请重新获取 / This code or link has expired: ask for a new one")
        )
    salt, _sep, digest = challenge.secret_hash.partition("$")
    if not hmac.compare_digest(_hash(salt, secret.strip()), digest):
        # Counted outside any transaction the caller may roll back.
        SignInChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
        left = settings.KEFU_PORTAL_MAX_GUESSES - challenge.attempts - 1
        if left <= 0:
            raise SignInRefused(
                _(
                    "验证码错误次数过多，已锁定 %(m)s 分钟 / "
                    "Too many wrong codes: locked for %(m)s minutes"
                )
                % {"m": settings.KEFU_PORTAL_LOCKOUT_MINUTES}
            )
        raise SignInRefused(
            _("验证码不正确，还可尝试 %(n)s 次 / Wrong code: %(n)s tries left") % {"n": left}
        )
    used = SignInChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now)
    if not used:
        raise SignInRefused(_("该验证码或链接已使用 / This code or link was already used"))
    return Proved(challenge.method, str(challenge.value))


def signin_prove(
    *,
    site: PortalSite,
    challenge_id: int | None,
    secret: str,
    method: str,
    now: datetime | None = None,
) -> Customer:
    """Prove the code or link of one challenge of this portal; returns the customer it
    signs in. Each wrong guess is counted; refused (:class:`SignInRefused`) when wrong,
    expired, used, locked or not this portal's."""
    now = now or timezone.now()
    challenge = (
        SignInChallenge.objects.filter(
            pk=challenge_id, client_id=site.client_id, method=method
        ).first()
        if challenge_id
        else None
    )
    proved = _check(challenge, secret, now)
    return services.portal_customer_for(
        client=site.client, method=proved.method, value=proved.value
    )
