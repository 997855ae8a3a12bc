from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.core.admin import AuditedAdmin
from kefu.sms.models import SmsMessage, SmsStatus, SmsTemplate
from kefu.sms.services import sms_retry


@admin.register(SmsTemplate)
class SmsTemplateAdmin(AuditedAdmin[SmsTemplate]):
    list_display = ("client", "purpose", "sign_name", "provider_code")
    list_filter = ("client", "purpose")


@admin.register(SmsMessage)
class SmsMessageAdmin(AuditedAdmin[SmsMessage]):
    """Every SMS with its result; the number only masked, the parameters (a sign-in code)
    never. A failed one can be sent again."""

    list_display = (
        "id",
        "created_at",
        "client",
        "to_masked",
        "purpose",
        "status",
        "attempts",
        "error",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "purpose", "client")
    fields = (
        "client",
        "to_masked",
        "purpose",
        "template",
        "backend",
        "status",
        "attempts",
        "error",
        "provider_id",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "expires_at",
        "ticket",
    )
    readonly_fields = fields
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重新发送选中的失败短信"))
    def retry(self, request: HttpRequest, queryset: QuerySet[SmsMessage]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        done = 0
        for sms in queryset.filter(status=SmsStatus.FAILED):
            try:
                sms_retry(sms=sms, actor=actor)
            except ValidationError:
                continue
            done += 1
        self.message_user(request, _("已重新排队 %(n)s 条") % {"n": done}, messages.INFO)
