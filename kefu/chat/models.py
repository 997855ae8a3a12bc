"""Live chat (官网在线客服): a client's website widget, and the conversations it carries.

A conversation is one chat of one customer through one widget. Its messages are the
messages of its ticket (channel chat), so the chat can go on as a ticket after it ends; the
conversation itself keeps what only a chat has: the queue and routing state, the instants
the chat KPIs are computed from, the customer's consent to the privacy notice, and who has
read how far."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet, client_key


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(24)


class ChatWidget(ClientOwned):
    """One embed of the chat on a client's website, named by its public ``key``. Only pages
    of ``origins`` (scheme://host[:port]) may open a chat with it."""

    client = client_key(db_index=False)  # chatwidget_client starts with it
    name = models.CharField(_("名称"), max_length=100, blank=True)
    key = models.CharField(_("嵌入密钥"), max_length=64, unique=True, default=new_secret)
    origins = models.JSONField(_("允许的网站来源"), default=list)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("接待坐席组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    privacy_notice = models.TextField(_("隐私告知"))
    notice_version = models.CharField(_("告知版本"), max_length=40, default="1")
    offer_seconds = models.PositiveIntegerField(_("分配等待接受秒数"), default=30)
    max_wait_seconds = models.PositiveIntegerField(_("最长排队秒数（之后转为留言）"), default=180)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "pk"]
        indexes = [models.Index(fields=["client", "revoked_at"], name="chatwidget_client")]
        verbose_name = _("在线客服窗口")
        verbose_name_plural = _("在线客服窗口")

    def __str__(self) -> str:
        return self.name or self.key[:8]


class ConversationStatus(models.TextChoices):
    WAITING = "waiting", _("排队中")
    ACTIVE = "active", _("会话中")
    ENDED = "ended", _("已结束")
    LEFT_MESSAGE = "message", _("已留言")


class EndedBy(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    AGENT = "agent", _("坐席")


class ConversationQuerySet(ClientScopedQuerySet):
    def open(self) -> ConversationQuerySet:
        return self.filter(status__in=(ConversationStatus.WAITING, ConversationStatus.ACTIVE))


class Conversation(ClientOwned):
    """One chat. ``queued_at`` is set when it entered the queue inside service hours (an
    out-of-hours chat is a left message, never offered); ``accepted_at`` when an agent took
    it; ``answered_at`` when the customer's widget acknowledged the first agent message (a
    reply that did not reach the customer is not an answer)."""

    client = client_key(db_index=False)  # conversation_client_started starts with it
    widget = models.ForeignKey(ChatWidget, on_delete=models.PROTECT, related_name="conversations")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    customer = models.ForeignKey(
        "tickets.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    token_hash = models.CharField(max_length=64)
    status = models.CharField(
        _("状态"),
        max_length=8,
        choices=ConversationStatus.choices,
        default=ConversationStatus.WAITING,
    )
    language = models.CharField(max_length=10, default="zh-hans")
    page_url = models.CharField(_("来源页面"), max_length=500, blank=True)
    consent_at = models.DateTimeField(_("同意隐私告知时间"), null=True, blank=True)
    consent_version = models.CharField(_("隐私告知版本"), max_length=40, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_offers",
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # Agents who let the offer pass (declined or timed out): not offered this chat again
    # while another agent can take it.
    passed = models.JSONField(default=list, blank=True)
    # A transfer to a team: routing offers the chat to its members only.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("发起时间"))
    queued_at = models.DateTimeField(_("进入排队时间"), null=True, blank=True)
    first_customer_at = models.DateTimeField(_("客户首条消息时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("坐席接入时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("首次应答时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.CharField(max_length=8, choices=EndedBy.choices, blank=True)
    wrapped_up_at = models.DateTimeField(_("小结时间"), null=True, blank=True)
    customer_read_id = models.BigIntegerField(default=0)
    agent_read_id = models.BigIntegerField(default=0)
    survey = models.OneToOneField(
        "surveys.Survey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversation",
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["client", "started_at"], name="conversation_client_started"),
            models.Index(fields=["status", "queued_at"], name="conversation_status_queued"),
            models.Index(fields=["agent", "status"], name="conversation_agent_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(offered_to__isnull=True) | Q(offer_expires_at__isnull=False),
                name="conversation_offer_has_expiry",
            ),
        ]
        verbose_name = _("在线会话")
        verbose_name_plural = _("在线会话")

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in (ConversationStatus.WAITING, ConversationStatus.ACTIVE)
