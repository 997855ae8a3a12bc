from django import forms
from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.core.admin_fields import ChoicesListField
from kefu.sla.models import SlaClock, SlaPolicy, SlaTarget
from kefu.tickets.models import Channel, Kind, Priority


class SlaTargetForm(forms.ModelForm[SlaTarget]):
    """The filters as boxes to tick; none ticked matches every ticket."""

    channels = ChoicesListField(label="渠道 / channels", choices=Channel.choices, required=False)
    priorities = ChoicesListField(
        label="优先级 / priorities", choices=Priority.choices, required=False
    )
    kinds = ChoicesListField(label="类型 / kinds", choices=Kind.choices, required=False)

    class Meta:
        model = SlaTarget
        fields = (
            "metric",
            "seconds",
            "calendar",
            "channels",
            "priorities",
            "kinds",
            "warn_percent",
            "breach_raise_priority",
            "order",
        )


class SlaTargetInline(admin.TabularInline[SlaTarget, SlaPolicy]):
    model = SlaTarget
    form = SlaTargetForm
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
