from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.surveys.models import CallbackTask, Survey, SurveyRule


@admin.register(SurveyRule)
class SurveyRuleAdmin(AuditedAdmin[SurveyRule]):
    list_display = ("contract", "client", "active", "delay_minutes", "low_score_max")
    list_filter = ("client", "active")
    readonly_fields = ("active_from",)


@admin.register(Survey)
class SurveyAdmin(AuditedAdmin[Survey]):
    list_display = ("pk", "client", "ticket", "channel", "origin", "status", "sent_at", "score")
    list_filter = ("client", "channel", "origin", "status")
    raw_id_fields = ("ticket",)
    readonly_fields = ("sent_at", "answered_at", "score", "comment", "attempts", "last_error")


@admin.register(CallbackTask)
class CallbackTaskAdmin(AuditedAdmin[CallbackTask]):
    list_display = ("pk", "client", "ticket", "kind", "due_at", "outcome", "done_at")
    list_filter = ("client", "kind", "outcome")
    raw_id_fields = ("ticket", "survey", "result", "assignee", "done_by")
