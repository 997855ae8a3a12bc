from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import (
    PRESENCE_STALE_AFTER,
    ApiToken,
    Notification,
    NotificationKind,
    Presence,
    PresenceState,
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


MAX_CHATS_LIMIT = 20


def _presence_locked(user: User, at: datetime) -> Presence:
    Presence.objects.get_or_create(user=user, defaults={"changed_at": at})
    return Presence.objects.select_for_update().get(user=user)


@transaction.atomic
def presence_set(
    *,
    user: User,
    state: str | None = None,
    max_chats: int | None = None,
    at: datetime | None = None,
) -> Presence:
    """The agent sets their availability (online, away, offline; on call and after-call
    work come from the phone) and how many chats they take at once (1–20)."""
    if not user.is_provider:
        raise ValidationError(_("只有乙方坐席有在线状态 / Only provider staff have a presence"))
    if state is not None and state not in PresenceState.values:
        raise ValidationError({"state": _("未知的状态 / Unknown state: %(s)s") % {"s": state}})
    if max_chats is not None and (
        isinstance(max_chats, bool)
        or not isinstance(max_chats, int)
        or not 1 <= max_chats <= MAX_CHATS_LIMIT
    ):
        raise ValidationError({"max_chats": _("同时会话数应为 1–20 / Concurrent chats: 1 to 20")})
    at = at or timezone.now()
    presence = _presence_locked(user, at)
    fields = []
    if state is not None and state != presence.state:
        presence.state, presence.changed_at = state, at
        fields += ["state", "changed_at"]
    if max_chats is not None and max_chats != presence.max_chats:
        presence.max_chats = max_chats
        fields.append("max_chats")
    presence.seen_at = at
    presence.save(update_fields=[*fields, "seen_at"])
    if fields:
        send_on_commit([presence_group()], "presence", user=user.pk, state=presence.state)
    return presence


def presence_group() -> str:
    """Every live view of agents' presence (the supervisors' chat and phone views)."""
    return group_name("presence", "all")


@transaction.atomic
def presence_socket_opened(*, user: User, at: datetime | None = None) -> Presence:
    """One more console page of the agent is open. A count not renewed for
    ``PRESENCE_STALE_AFTER`` is of pages whose server went away: it starts again."""
    at = at or timezone.now()
    presence = _presence_locked(user, at)
    stale = presence.seen_at is None or presence.seen_at < at - PRESENCE_STALE_AFTER
    presence.sockets = 1 if stale else presence.sockets + 1
    presence.seen_at = at
    presence.save(update_fields=["sockets", "seen_at"])
    return presence


def presence_seen(*, user: User, at: datetime | None = None) -> None:
    """An open console page of the agent is still there (its heartbeat)."""
    Presence.objects.filter(user=user).update(seen_at=at or timezone.now())


@transaction.atomic
def presence_socket_closed(*, user: User, at: datetime | None = None) -> Presence:
    """A console page closed; with the last one the agent is offline."""
    at = at or timezone.now()
    presence = _presence_locked(user, at)
    presence.sockets = max(presence.sockets - 1, 0)
    presence.save(update_fields=["sockets"])
    if presence.sockets == 0 and presence.state != PresenceState.OFFLINE:
        return presence_set(user=user, state=PresenceState.OFFLINE, at=at)
    return presence


@transaction.atomic
def presence_logged_out(*, user: User, at: datetime | None = None) -> None:
    """Logging out makes the agent offline, whatever pages are still open."""
    if user.is_provider and Presence.objects.filter(user=user).exists():
        presence = presence_set(user=user, state=PresenceState.OFFLINE, at=at)
        Presence.objects.filter(pk=presence.pk).update(sockets=0)
