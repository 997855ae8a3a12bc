"""Clients, departments and contracts in the admin. A contract's lists are edited as what
they are (channels to tick, one address per line, milestones and actions as rows) and
checked by the contract YAML's own rules (:func:`kefu.contracts.documents.doc_field_check`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin

from kefu.contracts.documents import ContractDoc, Fee, GoalDoc, doc_field_check
from kefu.contracts.models import (
    ActionStatus,
    Client,
    Contract,
    Department,
    ImprovementGoal,
    KpiTarget,
)
from kefu.core.admin import AuditedAdmin
from kefu.core.admin_fields import ChoicesListField, LinesField, RowsField
from kefu.tickets.models import Channel


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


def _milestone(cells: list[str]) -> dict[str, Any]:
    if len(cells) not in (2, 3):
        raise ValueError("应为 日期 | 金额 | 说明 / expected date | amount | description")
    try:
        amount = Decimal(cells[1].replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"金额无效 / bad amount {cells[1]!r}") from exc
    return {
        "due": cells[0],
        "amount": str(amount),
        "description": cells[2] if len(cells) > 2 else "",
    }


def _milestone_line(row: dict[str, Any]) -> str:
    return " | ".join(str(row.get(key, "")) for key in ("due", "amount", "description"))


def _action(cells: list[str]) -> dict[str, Any]:
    if not 1 <= len(cells) <= 4 or not cells[0]:
        raise ValueError(
            "应为 措施 | 负责人 | 期限 | 状态 / expected action | owner | due | status"
        )
    cells = cells + [""] * (4 - len(cells))
    return {
        "description": cells[0],
        "owner": cells[1],
        "due": cells[2] or None,
        "status": cells[3] or ActionStatus.PLANNED,
    }


def _action_line(row: dict[str, Any]) -> str:
    cells = [
        row.get("description", ""),
        row.get("owner", ""),
        row.get("due") or "",
        row.get("status", ""),
    ]
    return " | ".join(str(c) for c in cells)


def _dumped(rows: Any) -> list[dict[str, Any]]:
    return [row.model_dump(mode="json") for row in rows]


class ImprovementGoalForm(forms.ModelForm[ImprovementGoal]):
    actions = RowsField(
        parse=_action,
        show=_action_line,
        label="改进措施 / actions",
        help_text="每行一项：措施 | 负责人 | 期限(YYYY-MM-DD) | 状态(planned/doing/done)",
    )

    class Meta:
        model = ImprovementGoal
        fields = ("kpi", "baseline", "target", "due", "actions")

    def clean_actions(self) -> list[dict[str, Any]]:
        return _dumped(doc_field_check(GoalDoc, "actions", self.cleaned_data["actions"]))


class ImprovementGoalInline(admin.TabularInline[ImprovementGoal, Contract]):
    model = ImprovementGoal
    form = ImprovementGoalForm
    extra = 0


class ContractForm(forms.ModelForm[Contract]):
    channels = ChoicesListField(label="服务渠道 / channels", choices=Channel.choices, required=True)
    report_recipients = LinesField(
        label="报告收件人 / report recipients", help_text="每行一个邮箱 / one address per line"
    )
    payment_milestones = RowsField(
        parse=_milestone,
        show=_milestone_line,
        label="付款节点 / payment milestones",
        help_text="每行一项：日期(YYYY-MM-DD) | 金额 | 说明",
    )

    class Meta:
        model = Contract
        fields = (
            "client",
            "number",
            "title",
            "party_a",
            "party_b",
            "start_date",
            "end_date",
            "auto_renew",
            "notice_days",
            "monthly_fee",
            "currency",
            "liquidated_damages_percent",
            "credit_cap_percent",
            "channels",
            "service_calendar",
            "emergency_calendar",
            "service_level_seconds",
            "retention_days",
            "report_recipients",
            "payment_milestones",
            "renewal_reminded_at",
            "source",
        )

    def clean_channels(self) -> list[str]:
        return list(doc_field_check(ContractDoc, "channels", self.cleaned_data["channels"]))

    def clean_report_recipients(self) -> list[str]:
        value = self.cleaned_data["report_recipients"]
        return list(doc_field_check(ContractDoc, "report_recipients", value))

    def clean_payment_milestones(self) -> list[dict[str, Any]]:
        value = self.cleaned_data["payment_milestones"]
        return _dumped(doc_field_check(Fee, "milestones", value))


@admin.register(Contract)
class ContractAdmin(AuditedAdmin[Contract]):
    form = ContractForm
    list_display = ("number", "title", "client", "start_date", "end_date", "monthly_fee")
    list_filter = ("client",)
    inlines = [KpiTargetInline, ImprovementGoalInline]
