from django.contrib import admin
from django.http import HttpRequest

from kefu.core.admin import AuditedAdmin
from kefu.portal.models import PortalSite, ReplyNotice


@admin.register(PortalSite)
class PortalSiteAdmin(AuditedAdmin[PortalSite]):
    list_display = ("display_name", "client", "host", "enabled", "sign_in_sms", "sign_in_email")
    list_filter = ("enabled",)


@admin.register(ReplyNotice)
class ReplyNoticeAdmin(AuditedAdmin[ReplyNotice]):
    list_display = ("id", "created_at", "client", "ticket", "method", "status", "detail")
    list_filter = ("status", "method", "client")
    readonly_fields = [f.name for f in ReplyNotice._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
