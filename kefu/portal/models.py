"""The customer portal (网站门户): one site per client, how customers sign in to it, and the
notices kefu sends them when an agent replies there."""

from __future__ import annotations

from typing import Self

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet
from kefu.privacy.fields import EncryptedTextField

_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("颜色写作 #RRGGBB"))
_HOST = RegexValidator(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
    _("主机名，如 help.example.com（小写，不含端口和路径）"),
)


class ProviderQuerySet(ClientScopedQuerySet):
    def narrow_for(self, user: User) -> Self:
        return self if user.is_provider else self.none()


class PortalSite(ClientOwned):
    """A client's portal: at ``/p/<client code>/`` and, when the client points a host name
    at kefu (and it is in ``ALLOWED_HOSTS``), at that host's root. In the client's name
    and colours; which sign-in methods it offers; whether agents' full names are hidden
    from customers (they then see "客服 / Service agent")."""

    host = models.CharField(
        _("独立域名"), max_length=253, blank=True, validators=[_HOST], help_text=_("可留空")
    )
    display_name = models.CharField(_("显示名称"), max_length=100)
    display_name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    primary_color = models.CharField(
        _("主色"), max_length=7, default="#1d4ed8", validators=[_COLOUR]
    )
    accent_color = models.CharField(
        _("辅助色"), max_length=7, default="#f59e0b", validators=[_COLOUR]
    )
    logo = models.FileField(_("标志图片"), upload_to="portal/logos/", blank=True)
    sign_in_sms = models.BooleanField(_("允许短信验证码登录"), default=True)
    sign_in_email = models.BooleanField(_("允许邮件链接登录"), default=True)
    hide_agent_names = models.BooleanField(_("对客户隐藏坐席姓名"), default=True)
    enabled = models.BooleanField(_("启用"), default=True)
    welcome = models.TextField(_("欢迎语"), blank=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("客户门户")
        verbose_name_plural = _("客户门户")
        constraints = [
            models.UniqueConstraint(fields=["client"], name="portal_site_per_client"),
            models.UniqueConstraint(
                fields=["host"], condition=~Q(host=""), name="portal_site_unique_host"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class SignInMethod(models.TextChoices):
    SMS = "sms", _("短信验证码")
    EMAIL = "email", _("邮件链接")


class SignInChallenge(ClientOwned):
    """One sign-in code (sent by SMS) or link (sent by email). Only a keyed hash of the
    secret is kept; ``key`` is the blind index of the phone or address (rate limits and
    lock-out), ``value`` the phone or address itself (encrypted), which the customer is
    found by once the secret is proved. ``attempts`` counts wrong guesses. A link is kept
    (encrypted) only until the task queue has mailed it."""

    method = models.CharField(_("方式"), max_length=8, choices=SignInMethod.choices)
    key = models.CharField(max_length=64)
    value = EncryptedTextField(_("手机号或邮箱"))
    secret_hash = models.CharField(max_length=100)
    # A link waiting for its mail (encrypted; cleared once the mail is written).
    pending_link = EncryptedTextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("门户登录验证")
        verbose_name_plural = _("门户登录验证")
        indexes = [
            models.Index(fields=["key", "created_at"], name="portal_challenge_key"),
            models.Index(fields=["ip", "created_at"], name="portal_challenge_ip"),
        ]


class NoticeStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("无法通知")


class ReplyNotice(ClientOwned):
    """The notice to a portal customer that their ticket has a new reply (best effort: the
    reply itself is on the portal). ``method`` is how it went (SMS or email) and
    ``detail`` why it did not."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE, related_name="+")
    method = models.CharField(_("方式"), max_length=8, choices=SignInMethod.choices, blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.QUEUED
    )
    detail = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("门户回复通知")
        verbose_name_plural = _("门户回复通知")
