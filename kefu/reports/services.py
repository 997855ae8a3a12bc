"""The monthly service report: built from the KPI engine and the contract, issued as a frozen
snapshot (a new version each time), signed off by the client, rendered as HTML, PDF and
XLSX from the same data."""

from __future__ import annotations

import io
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jieba
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.models import Client
from kefu.privacy import masking
from kefu.reports import charts, kpi
from kefu.reports.evaluation import evaluate
from kefu.reports.models import ServiceReport
from kefu.reports.periods import Period, month
from kefu.reports.selectors import client_kpis, contract_for
from kefu.tickets.models import Channel, Kind, Status, Tag, Ticket

jieba.setLogLevel(logging.WARNING)
_STOP = set("的了吗呢吧啊是在我你您有和就不也都要会能说请问怎么什么这个那个一下一个")


def _top_issues(client: Client, period: Period) -> dict[str, Any]:
    created = Ticket.objects.filter(
        client=client, created_at__gte=period.start, created_at__lt=period.end
    )
    categories = list(
        Tag.objects.filter(client=client, tickets__in=created)
        .values("name")
        .annotate(n=Count("tickets"))
        .order_by("-n", "name")[:10]
    )
    words: Counter[str] = Counter()
    # Subjects are the customers' words: masked before they are counted or listed, so a
    # report (frozen once issued, sent as PDF) never carries a phone or ID number.
    for subject in created.values_list("subject", flat=True).iterator(chunk_size=2000):
        words.update(
            w
            for w in jieba.lcut(masking.text(subject))
            if len(w) > 1 and w not in _STOP and not w.isdigit() and "*" not in w
        )
    complaints = [
        {**row, "subject": masking.text(row["subject"]), "status": str(Status(row["status"]).label)}
        for row in created.filter(kind=Kind.COMPLAINT)
        .order_by("created_at")
        .values("pk", "number", "subject", "status")[:50]
    ]
    return {
        "categories": [{"name": c["name"], "tickets": c["n"]} for c in categories],
        "keywords": [{"word": w, "count": n} for w, n in words.most_common(15)],
        "complaints": complaints,
    }


def report_build(client: Client, month_label: str) -> dict[str, Any]:
    """Every figure of the month's report, as plain data (the JSON format)."""
    period = month(month_label, client.time_zone)
    contract = contract_for(client, period)
    threshold = contract.service_level_seconds if contract else kpi.DEFAULT_SERVICE_LEVEL_S
    data = client_kpis(client, period, service_level_s=threshold)
    data["client_name"] = client.name
    data["contract"] = evaluate(contract, data["kpis"]) if contract else None
    data["top_issues"] = _top_issues(client, period)
    data["improvement_goals"] = [
        {
            "kpi": g.kpi,
            "baseline": g.baseline,
            "this_month": (data["kpis"].get(g.kpi) or {}).get("value"),
            "target": g.target,
            "due": g.due.isoformat(),
            "actions": g.actions,
        }
        for g in (contract.goals.all() if contract else [])
    ]
    return data


@transaction.atomic
def report_issue(
    *, client: Client, month_label: str, actor: User | None, plan: str = ""
) -> ServiceReport:
    """Freeze the month's figures as a new version and mail it to the contract's
    recipients (a background task, in this transaction)."""
    if actor is not None and actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied("只有乙方主管或管理员可以发布报告")
    data = report_build(client, month_label)
    last = ServiceReport.objects.filter(client=client, period=month_label).aggregate(
        v=Max("version")
    )["v"]
    report = ServiceReport.objects.create(
        client=client,
        period=month_label,
        version=(last or 0) + 1,
        data=data,
        plan=plan,
        issued_at=timezone.now(),
        issued_by=actor,
    )
    from kefu.reports import tasks

    if data["contract"] is not None:
        tasks.report_mail.enqueue(report.pk)
    return report


@transaction.atomic
def report_sign_off(*, report: ServiceReport, actor: User) -> ServiceReport:
    if actor.role != Role.AUDITOR or actor.client_id != report.client_id:
        raise PermissionDenied("只有该甲方的联系人可以确认报告")
    if report.signed_off_at is not None:
        raise ValidationError("报告已确认 / already signed off")
    report.signed_off_at = timezone.now()
    report.signed_off_by = actor
    report.save(update_fields=["signed_off_at", "signed_off_by"])
    return report


KPI_NAMES = {
    "csat": _("客户满意度"),
    "survey_response_rate": _("回访参评率"),
    "fcr": _("一次解决率"),
    "service_level": _("服务水平（接通率）"),
    "abandon_rate": _("放弃率"),
    "resolution_rate": _("解决率"),
    "complaint_rate": _("投诉率"),
    "aht_call": _("电话平均处理时长"),
    "aht_chat": _("在线平均处理时长"),
    "asa": _("平均应答速度"),
    "sla.acknowledge": _("确认登记"),
    "sla.first_response": _("首次响应"),
    "sla.next_response": _("处理进展"),
    "sla.escalation": _("升级"),
    "sla.resolution": _("解决"),
}


def report_context(data: dict[str, Any], *, plan: str = "") -> dict[str, Any]:
    """What the report template needs: the data plus display strings and charts."""
    k = data["kpis"]
    percent = (
        "csat",
        "survey_response_rate",
        "fcr",
        "service_level",
        "abandon_rate",
        "resolution_rate",
        "complaint_rate",
    )
    seconds = ("aht_call", "aht_chat", "asa")
    rows = [{"key": key, "figure": k[key], "text": kpi.display(k[key])} for key in percent]
    rows += [
        {
            "key": key,
            "figure": k[key],
            "text": kpi.display(k[key], percent=False)
            + (" s" if k[key]["value"] is not None else ""),
        }
        for key in seconds
    ]
    fr = k["first_response"]
    sla_rows = [
        {"key": key, "figure": f, "text": kpi.display(f)}
        for key, f in k.items()
        if key.startswith("sla.")
    ]
    volume = data["volume"]
    return {
        "data": data,
        "plan": plan,
        "kpi_rows": rows,
        "sla_rows": sla_rows,
        "first_response": {
            "mean": kpi.display(fr, percent=False),
            "median": "—" if fr["median"] is None else f"{fr['median']:.0f}",
            "within": kpi.display(fr["within_target"]),
        },
        "chart_channels": charts.bar_chart(
            [(str(Channel(c).label), n) for c, n in sorted(volume["by_channel"].items())]
        ),
        "chart_kinds": charts.bar_chart(
            [(str(Kind(c).label), n) for c, n in sorted(volume["by_kind"].items())]
        ),
    }


def render_html(data: dict[str, Any], *, plan: str = "", standalone: bool = True) -> str:
    return render_to_string(
        "reports/monthly_document.html",
        {**report_context(data, plan=plan), "standalone": standalone},
    )


def render_pdf(data: dict[str, Any], *, plan: str = "") -> bytes:
    from weasyprint import CSS, HTML

    css = CSS(filename=str(settings.BASE_DIR / "static" / "kefu" / "report.css"))
    return HTML(string=render_html(data, plan=plan)).write_pdf(stylesheets=[css])


def render_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "KPI"
    sheet.append(["指标 KPI", "值 value", "分子 numerator", "分母 denominator"])
    for key, figure in data["kpis"].items():
        if key == "first_response":
            sheet.append([key, figure["value"], figure["numerator"], figure["denominator"]])
            wt = figure["within_target"]
            sheet.append(
                ["first_response.within_target", wt["value"], wt["numerator"], wt["denominator"]]
            )
        else:
            sheet.append([key, figure["value"], figure["numerator"], figure["denominator"]])
    volume = book.create_sheet("服务量 Volume")
    for key, value in data["volume"].items():
        if isinstance(value, dict):
            for sub, n in value.items():
                volume.append([f"{key}.{sub}", n])
        else:
            volume.append([key, value])
    if data.get("contract"):
        contract = book.create_sheet("合同考核 Contract")
        contract.append(["指标", "值", "比较", "目标", "达标", "抵扣"])
        for row in data["contract"]["targets"]:
            contract.append(
                [
                    row["label"],
                    row["value"],
                    row["comparison"],
                    row["target"],
                    {True: "达标", False: "未达标", None: "—"}[row["passed"]],
                    row["credit"],
                ]
            )
        contract.append(["服务抵扣合计（封顶后）", data["contract"]["credit"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_issue_due(*, now: datetime | None = None) -> list[ServiceReport]:
    """Issue last month's report for every client whose contract is in force, once the 1st
    of the month 08:00 (client time) has passed and no version exists yet."""
    now = now or timezone.now()
    issued = []
    for client in Client.objects.filter(is_active=True):
        local = now.astimezone(ZoneInfo(client.time_zone))
        if local.day == 1 and local.hour < 8:
            continue
        last = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        if ServiceReport.objects.filter(client=client, period=last).exists():
            continue
        if contract_for(client, month(last, client.time_zone)) is None:
            continue
        issued.append(report_issue(client=client, month_label=last, actor=None))
    return issued


def quarter_months(label: str) -> list[str]:
    """``"2026-Q3"`` → ``["2026-07", "2026-08", "2026-09"]``."""
    try:
        year_text, q_text = label.upper().split("-Q")
        year, q = int(year_text), int(q_text)
    except ValueError as exc:
        raise ValueError(f"not a quarter (YYYY-Qn): {label!r}") from exc
    if not 1 <= q <= 4:
        raise ValueError(f"not a quarter (YYYY-Qn): {label!r}")
    return [f"{year:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def quarter_build(client: Client, label: str) -> dict[str, Any]:
    """季度服务质量回顾: the three monthly reports side by side — each month's latest issued
    version where there is one (the figures the client signed), else the live figures."""
    months: list[dict[str, Any]] = []
    for m in quarter_months(label):
        issued = ServiceReport.objects.filter(client=client, period=m).order_by("-version").first()
        data = issued.data if issued else report_build(client, m)
        months.append(
            {
                "month": m,
                "source": f"v{issued.version}" if issued else "live",
                "signed_off": bool(issued and issued.signed_off_at),
                "data": data,
            }
        )
    keys = [r["key"] for r in report_context(months[0]["data"])["kpi_rows"]]
    trend = [
        {
            "key": key,
            "name": str(KPI_NAMES.get(key, key)),
            "cells": [
                kpi.display(
                    m["data"]["kpis"][key], percent=key not in ("aht_call", "aht_chat", "asa")
                )
                for m in months
            ],
        }
        for key in keys
    ]
    credits = [float((m["data"].get("contract") or {}).get("credit", 0.0)) for m in months]
    return {
        "client": client.code,
        "client_name": client.name,
        "quarter": label.upper(),
        "months": months,
        "trend": trend,
        "credits": credits,
        "credit_total": sum(credits),
        "tickets": sum(m["data"]["volume"]["tickets"] for m in months),
        "improvement_goals": months[-1]["data"].get("improvement_goals", []),
    }


def render_quarter_html(data: dict[str, Any]) -> str:
    return render_to_string("reports/quarterly_document.html", {"q": data})


def render_quarter_pdf(data: dict[str, Any]) -> bytes:
    from weasyprint import CSS, HTML

    css = CSS(filename=str(settings.BASE_DIR / "static" / "kefu" / "report.css"))
    return HTML(string=render_quarter_html(data)).write_pdf(stylesheets=[css])
