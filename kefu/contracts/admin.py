from django.contrib import admin

from kefu.contracts.models import Client, Contract, Department, ImprovementGoal, KpiTarget
from kefu.core.admin import AuditedAdmin


@admin.register(Client)
class ClientAdmin(AuditedAdmin[Client]):
    list_display = ("code", "name", "ticket_prefix", "time_zone", "is_active")
    search_fields = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin[Department]):
    list_display = ("name", "client", "email")
    list_filter = ("client",)


class KpiTargetInline(admin.TabularInline[KpiTarget, Contract]):
    model = KpiTarget
    extra = 0


class ImprovementGoalInline(admin.TabularInline[ImprovementGoal, Contract]):
    model = ImprovementGoal
    extra = 0


@admin.register(Contract)
class ContractAdmin(AuditedAdmin[Contract]):
    list_display = ("number", "title", "client", "start_date", "end_date", "monthly_fee")
    list_filter = ("client",)
    inlines = [KpiTargetInline, ImprovementGoalInline]
