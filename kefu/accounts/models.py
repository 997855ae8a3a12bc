from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Self

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.accounts.roles import CLIENT_ROLES, PROVIDER_ROLES, ROLE_PERMS, Perm, Role
from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet


class User(AbstractUser):
    """A person who logs in. Provider staff serve the clients in ``clients``; a client user
    (auditor, department) belongs to exactly one ``client``."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("显示名"), max_length=100, blank=True)
    language = models.CharField(
        _("界面语言"),
        max_length=10,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    client = models.ForeignKey(
        "contracts.Client",
        verbose_name=_("所属甲方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="client_users",
    )
    department = models.ForeignKey(
        "contracts.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    clients = models.ManyToManyField(
        "contracts.Client",
        verbose_name=_("负责的甲方"),
        blank=True,
        related_name="provider_staff",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.role in CLIENT_ROLES and self.client_id is None:
            raise ValidationError({"client": _("甲方用户必须属于一个甲方")})
        if self.role in PROVIDER_ROLES and self.client_id is not None:
            raise ValidationError({"client": _("乙方员工不属于某个甲方，请用“负责的甲方”")})
        if self.role == Role.DEPARTMENT and self.department_id is None:
            raise ValidationError({"department": _("部门用户必须指定部门")})

    @property
    def is_provider(self) -> bool:
        return self.role in PROVIDER_ROLES

    def has_kefu_perm(self, perm: Perm) -> bool:
        return self.is_active and perm in ROLE_PERMS.get(self.role, frozenset())

    def visible_client_ids(self) -> list[int] | None:
        """Client ids this user may see; ``None`` means every client (provider admin)."""
        cached: list[int] | bool | None = getattr(self, "_visible_client_ids", False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        ids: list[int] | None
        if self.role == Role.ADMIN:
            ids = None
        elif self.role in CLIENT_ROLES:
            ids = [self.client_id] if self.client_id else []
        else:
            ids = list(self.clients.values_list("id", flat=True))
        self._visible_client_ids = ids
        return ids


class Team(ClientOwned):
    """A provider team serving one client's queue (热线组, 在线组 …)."""

    name = models.CharField(_("名称"), max_length=100)
    members = models.ManyToManyField(User, blank=True, related_name="teams")

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="team_unique")]
        verbose_name = _("坐席组")
        verbose_name_plural = _("坐席组")

    def __str__(self) -> str:
        return self.name


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    READ = "read", _("只读")
    WRITE = "write", _("读写")


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the raw value is shown once.

    A ``read`` token may only GET (and HEAD/OPTIONS); a ``write`` token may do whatever its
    user may. A token past ``expires_at`` authenticates no one."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(
        _("权限范围"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    @staticmethod
    def new_raw() -> str:
        return "kf_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("工单已分派给你")
    ESCALATION_ANSWERED = "escalation_answered", _("甲方部门已答复")
    ESCALATION_INFO_REQUESTED = "escalation_info_asked", _("甲方部门要求补充信息")
    ESCALATION_RETURNED = "escalation_returned", _("甲方部门退回升级")
    SLA_WARNING = "sla_warning", _("时效预警")
    SLA_BREACH = "sla_breach", _("时效超时")


class NotificationQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        """A notification is its recipient's alone, and only while they serve its client."""
        return self.filter(user=user)


class Notification(ClientOwned):
    """One in-app notification (the bell in the header) about a ticket of ``client``.
    ``text`` is written in the recipient's language when it is created; ``url`` is the
    page it is about."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=24, choices=NotificationKind.choices)
    text = models.CharField(_("内容"), max_length=400)
    url = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return self.text


class PresenceState(models.TextChoices):
    ONLINE = "online", _("在线")
    AWAY = "away", _("离开")
    OFFLINE = "offline", _("离线")
    ON_CALL = "on_call", _("通话中")
    AFTER_CALL = "acw", _("话后处理")


PRESENCE_HEARTBEAT = timedelta(seconds=30)
PRESENCE_STALE_AFTER = timedelta(seconds=120)


class Presence(models.Model):
    """One agent's availability, shared by chat and phone: whether work may be offered to
    them now, and how many chats at once. ``sockets`` counts the agent's open console
    pages; the last one closing (or logging out) makes them offline. ``seen_at`` is renewed
    by every open console page (:data:`HEARTBEAT`); a presence not renewed for
    :data:`STALE_AFTER` belongs to pages whose server went away, and is not offered work."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    state = models.CharField(
        _("状态"), max_length=8, choices=PresenceState.choices, default=PresenceState.OFFLINE
    )
    max_chats = models.PositiveSmallIntegerField(_("最大同时会话数"), default=3)
    sockets = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(_("状态变更时间"))
    # When the agent was last offered work: ties on load go to whoever waited longest.
    last_offered_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("坐席状态")
        verbose_name_plural = _("坐席状态")
        indexes = [models.Index(fields=["state"], name="presence_state")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_state_display()}"
