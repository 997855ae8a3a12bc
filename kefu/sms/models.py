"""SMS: the templates a client has approved at its SMS provider, and every message sent.

A Chinese SMS provider sends only text from a template it approved, under an approved
signature (签名); kefu names a template by its *purpose* (a sign-in code, a reply notice, a
survey link) and each client keeps its own template for each purpose."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet
from kefu.privacy.fields import EncryptedJSONField, EncryptedTextField


class Purpose(models.TextChoices):
    LOGIN_CODE = "login_code", _("登录验证码")
    REPLY_NOTICE = "reply_notice", _("回复通知")
    SURVEY_LINK = "survey_link", _("满意度调查链接")
    NOTICE = "notice", _("其他通知")


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class ProviderStaffQuerySet(ClientScopedQuerySet):
    """SMS plumbing is seen by provider staff of the client (agents look into a failed
    code a customer did not get); a client's own users and departments see none of it."""

    def narrow_for(self, user: User) -> Self:
        return self if user.is_provider else self.none()


class SmsTemplate(ClientOwned):
    """One client's template for one purpose: the code the provider approved it under
    (``SMS_123456789`` at Aliyun), the signature, and the same text as kefu's console
    backend writes it, with ``{name}`` placeholders for the parameters."""

    purpose = models.CharField(_("用途"), max_length=32, choices=Purpose.choices)
    provider_code = models.CharField(
        _("服务商模板代码"), max_length=64, blank=True, help_text=_("短信服务商审核通过的模板代码")
    )
    sign_name = models.CharField(_("短信签名"), max_length=32)
    text = models.TextField(
        _("模板内容"), help_text=_("与服务商模板一致，参数写作 {code}、{number}、{link}")
    )

    objects = ProviderStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信模板")
        verbose_name_plural = _("短信模板")
        constraints = [
            models.UniqueConstraint(fields=["client", "purpose"], name="sms_template_per_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.sign_name}"


class SmsMessage(ClientOwned):
    """One SMS kefu sent or tried to send. The number and parameters (a sign-in code) are
    encrypted at rest; ``to_key`` is the number's blind index (rate limits, anonymising)
    and ``to_masked`` what pages show."""

    MAX_ATTEMPTS = 5

    to = EncryptedTextField(_("手机号"))
    to_key = models.CharField(max_length=64, db_index=True)
    to_masked = models.CharField(_("手机号"), max_length=32)
    purpose = models.CharField(_("用途"), max_length=32, choices=Purpose.choices)
    template = models.ForeignKey(
        SmsTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    params = EncryptedJSONField(_("参数"), default=dict, blank=True)
    customer = models.ForeignKey(
        "tickets.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    backend = models.CharField(_("发送通道"), max_length=32)
    status = models.CharField(
        _("状态"), max_length=16, choices=SmsStatus.choices, default=SmsStatus.QUEUED
    )
    provider_id = models.CharField(_("服务商回执编号"), max_length=128, blank=True)
    error = models.TextField(_("错误"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), db_index=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # Worth nothing afterwards (a sign-in code): not retried past it.
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)

    objects = ProviderStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["to_key", "created_at"], name="sms_to_recent"),
            models.Index(fields=["status", "next_attempt_at"], name="sms_due"),
        ]

    def __str__(self) -> str:
        return f"{self.to_masked} · {self.get_purpose_display()} · {self.get_status_display()}"

    @property
    def retryable_by_staff(self) -> bool:
        return self.status == SmsStatus.FAILED
