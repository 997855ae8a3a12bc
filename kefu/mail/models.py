"""The email channel: mailboxes of a client, every message received (raw, exactly as it
arrived) and every message sent.

Durability rests on two rules: an inbound message's raw bytes are written in the same
transaction as its processing (so a crash leaves either nothing or everything), and the
pair (client, ``dedup_key``) is unique (so a message delivered twice, or re-read after a
crash before the IMAP flag was set, is recognised as a duplicate)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.roles import Role
from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet
from kefu.privacy.fields import EncryptedTextField

if TYPE_CHECKING:
    from kefu.accounts.models import User


# The SMTP server of a mailbox that writes its mail to files instead (the demo, a fresh
# machine): see kefu.mail.outbound.
FILE_TRANSPORT = "file"


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", _("不加密")


class ProviderAdminQuerySet(ClientScopedQuerySet):
    """Mail plumbing (mailboxes with their passwords, raw messages) is the provider admin's
    business: other roles see none of it, whatever the client."""

    def narrow_for(self, user: User) -> Self:
        return self if user.role == Role.ADMIN else self.none()


class Mailbox(ClientOwned):
    """A client's service mailbox (e.g. kefu@client.example): read by IMAP polling or fed by a
    mail server through the LMTP/SMTP listener; answers go out through its SMTP server with
    its address as From."""

    address = models.EmailField(_("邮箱地址"), unique=True)
    from_name = models.CharField(_("发件人名称"), max_length=100, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    imap_host = models.CharField(_("IMAP 服务器"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP 端口"), default=993)
    imap_security = models.CharField(
        _("IMAP 加密"), max_length=8, choices=Security.choices, default=Security.SSL
    )
    imap_user = models.CharField(_("IMAP 用户名"), max_length=200, blank=True)
    # Encrypted at rest like customer data, and rotated with it (kefu encryption rotate).
    imap_password = EncryptedTextField(_("IMAP 密码"), blank=True)
    imap_folder = models.CharField(_("收件文件夹"), max_length=200, default="INBOX")
    imap_processed_folder = models.CharField(
        _("已处理文件夹"),
        max_length=200,
        blank=True,
        help_text=_("留空则只给已处理的邮件加 $KefuDone 标记，不移动。"),
    )

    smtp_host = models.CharField(_("SMTP 服务器"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP 端口"), default=465)
    smtp_security = models.CharField(
        _("SMTP 加密"), max_length=8, choices=Security.choices, default=Security.SSL
    )
    smtp_user = models.CharField(_("SMTP 用户名"), max_length=200, blank=True)
    smtp_password = EncryptedTextField(_("SMTP 密码"), blank=True)

    acknowledge = models.BooleanField(
        _("发送确认登记邮件"),
        default=True,
        help_text=_("合同的时效政策含“确认登记”目标时，新工单会收到一封带工单号的确认邮件。"),
    )
    ack_subject = models.CharField(
        _("确认邮件主题"),
        max_length=200,
        blank=True,
        help_text=_("可用 {{ number }}、{{ subject }}；留空用默认主题。"),
    )
    ack_body_zh = models.TextField(
        _("确认邮件正文（中文）"),
        blank=True,
        help_text=_("可用 {{ number }}、{{ subject }}、{{ client }}；留空用默认正文。"),
    )
    ack_body_en = models.TextField(_("确认邮件正文（英文）"), blank=True)

    last_poll_at = models.DateTimeField(_("上次收信"), null=True, blank=True)
    last_poll_ok = models.BooleanField(_("上次收信成功"), null=True, blank=True)
    last_poll_error = models.TextField(_("上次收信错误"), blank=True)

    objects = ProviderAdminQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "address"]
        verbose_name = _("服务邮箱")
        verbose_name_plural = _("服务邮箱")

    def __str__(self) -> str:
        return self.address

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def can_send(self) -> bool:
        return bool(self.smtp_host)


class Source(models.TextChoices):
    IMAP = "imap", "IMAP"
    LMTP = "lmtp", "LMTP/SMTP"
    FILE = "file", _("文件导入")


class Result(models.TextChoices):
    CREATED = "created", _("新建工单")
    APPENDED = "appended", _("追加到工单")
    IGNORED = "ignored", _("已忽略（自动回复/退信）")
    QUARANTINED = "quarantined", _("隔离")


class InboundMail(ClientOwned):
    """One message as received. ``client`` is empty only for a message that arrived for no
    configured mailbox: such rows are visible to provider admins alone (the tenant filter
    drops null clients)."""

    client = models.ForeignKey(  # type: ignore[assignment]
        "contracts.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    raw = models.BinaryField(_("原始邮件"))
    # The Message-ID (without angle brackets), or "sha256:<hex>" of the raw bytes.
    dedup_key = models.CharField(max_length=300)
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True, db_index=True)
    recipients = models.JSONField(_("收件人"), default=list, blank=True)
    from_address = models.CharField(_("发件人"), max_length=254, blank=True)
    subject = models.CharField(_("主题"), max_length=300, blank=True)
    result = models.CharField(_("结果"), max_length=12, choices=Result.choices)
    reason = models.TextField(_("原因"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("处理次数"), default=1)

    objects = ProviderAdminQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "dedup_key"], name="inbound_unique_key"),
            models.UniqueConstraint(
                fields=["dedup_key"], condition=Q(client__isnull=True), name="inbound_unique_orphan"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "message_id"], name="inbound_client_msgid"),
            models.Index(fields=["result", "-received_at"], name="inbound_result"),
        ]
        verbose_name = _("收到的邮件")
        verbose_name_plural = _("收到的邮件")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_result_display()}"

    @property
    def audit_label(self) -> str:
        return f"inbound mail #{self.pk}"


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("回复")
    ACK = "ack", _("确认登记")


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class OutboundMail(ClientOwned):
    """One mail kefu sends, written in the transaction of what caused it (the agent's reply,
    the new ticket) so it is never lost; sent by a task and retried by the scheduler until
    the SMTP server takes it or ``MAX_ATTEMPTS`` is reached."""

    MAX_ATTEMPTS = 8

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="outbound")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=OutboundKind.choices)
    message_id = models.CharField(_("Message-ID"), max_length=300, unique=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    to_address = models.CharField(_("收件人"), max_length=254)
    subject = models.CharField(_("主题"), max_length=400)
    status = models.CharField(
        max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderAdminQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "message_id"], name="outbound_client_msgid"),
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["client", "kind", "to_address"], name="outbound_ack_rate"),
        ]
        verbose_name = _("发出的邮件")
        verbose_name_plural = _("发出的邮件")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.message_id}"


class MailAddressStatus(ClientOwned):
    """What kefu knows about a customer address of a client: it bounced (mail to it failed)."""

    address = models.CharField(max_length=254)
    failing = models.BooleanField(_("投递失败"), default=False)
    bounces = models.PositiveIntegerField(_("退信次数"), default=0)
    last_bounce_at = models.DateTimeField(null=True, blank=True)

    objects = ProviderAdminQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "address"], name="mail_address_unique")
        ]
        verbose_name = _("邮箱投递状态")
        verbose_name_plural = _("邮箱投递状态")

    def __str__(self) -> str:
        return f"#{self.pk} {'failing' if self.failing else 'ok'}"
