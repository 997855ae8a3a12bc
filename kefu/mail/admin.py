from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.core.admin import AuditedAdmin
from kefu.mail.models import InboundMail, MailAddressStatus, Mailbox, OutboundMail, Result
from kefu.mail.services import mail_reprocess

_KEEP = _("留空则保持不变")


class MailboxForm(forms.ModelForm[Mailbox]):
    """Passwords are never shown again; an empty field keeps the stored one."""

    imap_password = forms.CharField(
        label=_("IMAP 密码"), required=False, widget=forms.PasswordInput, help_text=_KEEP
    )
    smtp_password = forms.CharField(
        label=_("SMTP 密码"), required=False, widget=forms.PasswordInput, help_text=_KEEP
    )

    class Meta:
        model = Mailbox
        fields = (
            "client",
            "address",
            "from_name",
            "active",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_password",
            "imap_folder",
            "imap_processed_folder",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_user",
            "smtp_password",
            "acknowledge",
            "ack_subject",
            "ack_body_zh",
            "ack_body_en",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("imap_password", "smtp_password"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin[Mailbox]):
    form = MailboxForm
    list_display = ("address", "client", "active", "imap_host", "smtp_host", "last_poll_at")
    list_filter = ("client", "active")
    readonly_fields = ("last_poll_at", "last_poll_ok", "last_poll_error")
    fieldsets = (
        (None, {"fields": ("client", "address", "from_name", "active")}),
        (
            _("收信（IMAP；用 LMTP/SMTP 投递时留空）"),
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_user",
                    "imap_password",
                    "imap_folder",
                    "imap_processed_folder",
                )
            },
        ),
        (
            _("发信（SMTP）"),
            {"fields": ("smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password")},
        ),
        (
            _("确认登记邮件"),
            {"fields": ("acknowledge", "ack_subject", "ack_body_zh", "ack_body_en")},
        ),
        (_("状态"), {"fields": ("last_poll_at", "last_poll_ok", "last_poll_error")}),
    )


@admin.register(InboundMail)
class InboundMailAdmin(AuditedAdmin[InboundMail]):
    """Read-only: a received message is evidence. Its raw bytes are downloaded from the
    quarantine page (the access is audited), not shown here."""

    list_display = ("id", "received_at", "client", "mailbox", "source", "result", "ticket")
    list_filter = ("result", "source", "client")
    exclude = ("raw",)
    actions = ["reprocess"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMail]:
        return super().get_queryset(request).defer("raw").select_related("client", "ticket")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重新处理选中的隔离邮件"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        done = 0
        for inbound in queryset.filter(result=Result.QUARANTINED):
            result = mail_reprocess(inbound=inbound, actor=actor)
            done += result.result != Result.QUARANTINED
        self.message_user(request, _("已处理 %(n)s 封") % {"n": done}, messages.INFO)


@admin.register(OutboundMail)
class OutboundMailAdmin(AuditedAdmin[OutboundMail]):
    list_display = ("id", "created_at", "client", "kind", "ticket", "status", "attempts")
    list_filter = ("status", "kind", "client")
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MailAddressStatus)
class MailAddressStatusAdmin(AuditedAdmin[MailAddressStatus]):
    list_display = ("address", "client", "failing", "bounces", "last_bounce_at")
    list_filter = ("failing", "client")
