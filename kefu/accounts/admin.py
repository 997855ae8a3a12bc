from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from kefu.accounts.models import ApiToken, Team, User
from kefu.core.admin import AuditedAdmin, AuditedMixin


@admin.register(User)
class UserAdmin(AuditedMixin, DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "client", "is_active")
    list_filter = ("role", "client", "is_active")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            "kefu",
            {"fields": ("role", "display_name", "language", "client", "department", "clients")},
        ),
    )
    filter_horizontal = ("clients", "groups", "user_permissions")


@admin.register(Team)
class TeamAdmin(AuditedAdmin[Team]):
    list_display = ("name", "client")
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
