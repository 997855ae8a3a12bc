from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kefu.core.admin import AuditedAdmin
from kefu.privacy.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(AuditedAdmin[RetentionRun]):
    """Read-only: runs are written by the retention job, and their certificates must not
    change afterwards."""

    list_display = ("client", "contract", "due_date", "started_at", "finished_at")
    list_filter = ("client",)
    readonly_fields = (
        "client",
        "contract",
        "due_date",
        "started_at",
        "finished_at",
        "counts",
        "certificate",
        "certificate_sha256",
    )
    exclude = ("phase", "last_id", "lease_until")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False
