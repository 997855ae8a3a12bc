from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.sla.models import SlaClock, SlaPolicy, SlaTarget


class SlaTargetInline(admin.TabularInline[SlaTarget, SlaPolicy]):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin[SlaPolicy]):
    list_display = ("name", "client", "active")
    list_filter = ("client", "active")
    inlines = [SlaTargetInline]


@admin.register(SlaClock)
class SlaClockAdmin(AuditedAdmin[SlaClock]):
    list_display = ("ticket", "metric", "status", "due_at", "provisional")
    list_filter = ("metric", "status", "provisional")
    raw_id_fields = ("ticket", "target")
    # Clocks change only through their events (kefu.sla.services), never by hand.
    readonly_fields = [f.name for f in SlaClock._meta.fields]
