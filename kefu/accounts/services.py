from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import (
    ApiToken,
    Notification,
    NotificationKind,
    TokenScope,
    User,
)
from kefu.accounts.selectors import notifications_unread_count
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.core.prepared import PreparedQuery
from kefu.core.realtime import group_name, send_on_commit


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: str = TokenScope.READ,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw value, which is never stored or shown again.
    ``scope`` is ``read`` (GET only) or ``write``; ``expires_at`` (aware) must lie ahead."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请给令牌起个名字")})
    if scope not in TokenScope.values:
        raise ValidationError({"scope": _("未知的权限范围：%(scope)s") % {"scope": scope}})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("到期时间必须晚于现在")})
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:10],
        key_hash=ApiToken.hash(raw),
        scope=scope,
        expires_at=expires_at,
    )
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        obj=token,
        data={"scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.DELETE, obj=token, field="revoked_at")
    return token


def api_token_expiry(last_day: date) -> datetime:
    """A token "valid until 2027-03-31" works through that day, in the server's time zone."""
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


# Every API request looks its token up: the SQL is written once (kefu/core/prepared.py).
_TOKEN_BY_HASH = PreparedQuery(
    lambda key_hash: ApiToken.objects.select_related("user").filter(key_hash=key_hash).order_by()
)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The live token with this raw value (not revoked, not expired, its user active)."""
    now = timezone.now()
    # Found by its unique hash alone, then judged here: the same answer as putting the
    # conditions in the query, for a simpler query to build on every API request.
    token = _TOKEN_BY_HASH.first(ApiToken.hash(raw))
    if (
        token is None
        or token.revoked_at is not None
        or not token.user.is_active
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        return None
    # Touch at most once a minute: a busy integration must not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in {"zh-hans", "en"}:
        raise ValidationError({"language": _("不支持的语言")})
    user.language = language
    user.save(update_fields=["language"])
    return user


def notification_group(user_id: int) -> str:
    """The live group of one user's notifications (the bell on every page)."""
    return group_name("user", user_id)


@transaction.atomic
def notification_create(
    *, user: User, client_id: int, kind: str, text: str, url: str
) -> Notification | None:
    """An in-app notification for ``user`` (the bell), pushed live to their open pages on
    commit. ``None`` (nothing stored) for an inactive user or one who no longer serves the
    client."""
    if kind not in NotificationKind.values:
        raise ValidationError({"kind": _("未知的通知类型：%(kind)s") % {"kind": kind}})
    ids = user.visible_client_ids()
    if not user.is_active or (ids is not None and client_id not in ids):
        return None
    note = Notification.objects.create(
        user=user,
        client_id=client_id,
        kind=kind,
        text=text[:400],
        url=url[:200],
        created_at=timezone.now(),
    )
    send_on_commit(
        [notification_group(user.pk)],
        "notification",
        id=note.pk,
        kind=kind,
        text=note.text,
        url=note.url,
        unread=notifications_unread_count(user=user),
    )
    return note


@transaction.atomic
def notification_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    """Mark the user's unread notifications read (only ``ids``, if given); returns how many.
    The user's other pages hear the new unread count."""
    unread = Notification.objects.visible_to(user).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    count = unread.update(read_at=timezone.now())
    if count:
        left = notifications_unread_count(user=user)
        send_on_commit([notification_group(user.pk)], "notification.read", unread=left)
    return count
