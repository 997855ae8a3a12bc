"""Changes made in the Django admin go to kefu's audit log too (Django's own LogEntry is
editable and not tenant-scoped). Every kefu ModelAdmin derives from :class:`AuditedAdmin`."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from kefu.core.audit import audit_record
from kefu.core.models import AuditAction

M = TypeVar("M", bound=models.Model)


def _changed_fields(message: Any) -> list[str]:
    """Field names from the admin's change message (a list of {"changed": {"fields": …}});
    names only, never values."""
    fields: list[str] = []
    for entry in message if isinstance(message, list) else []:
        for detail in entry.values() if isinstance(entry, dict) else []:
            if isinstance(detail, dict):
                fields += [str(f) for f in detail.get("fields", [])]
    return fields


class AuditedMixin:
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(actor=request.user, action=AuditAction.CREATE, obj=obj, request=request)  # type: ignore[arg-type]
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditAction.UPDATE,
            obj=obj,
            data={"fields": _changed_fields(message), "via": "admin"},
            request=request,
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_record(actor=request.user, action=AuditAction.DELETE, obj=obj, request=request)  # type: ignore[arg-type]
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class AuditedAdmin(AuditedMixin, admin.ModelAdmin[M]):
    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Every tenant-owned model's key is named "client" without a label of its own.
        if db_field.name == "client" and field is not None:
            field.label = "甲方 / client"
        return field


admin.site.site_header = "kefu 客服 · 管理后台 / administration"
admin.site.site_title = "kefu 客服管理后台"
admin.site.index_title = "站点管理 / site administration"
