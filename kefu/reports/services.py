"""The monthly service report: built from the KPI engine and the contract, issued as a frozen
snapshot (a new version each time), signed off by the client, rendered as HTML, PDF and
XLSX from the same data."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jieba
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.contracts.models import Client
from kefu.privacy import masking
from kefu.reports import charts, display, kpi
from kefu.reports.evaluation import evaluate, kpi_value
from kefu.reports.models import ServiceReport
from kefu.reports.periods import Period, month
from kefu.reports.selectors import client_kpis, contract_for
from kefu.tickets.models import Kind, Status, Tag, Ticket

jieba.setLogLevel(logging.WARNING)
# Words that say how a customer asks, not what about: a hot-keyword list of 怎么, 多久 and
# 问题 tells a client nothing. Topic words (保修, 发票, 停车位 …) must never be listed here.
# Single characters need no entry: words shorter than two characters are skipped anyway.
_STOP = frozenset(
    (
        # question words
        "怎么", "怎么样", "怎么办", "怎样", "如何", "什么", "什么样", "什么时候", "为什么",
        "为何", "多久", "多少", "多长", "多长时间", "几天", "几时", "哪里", "哪儿", "哪个",
        "哪些", "是否", "能否", "能不能", "可否", "可不可以", "有没有", "是不是", "可以",
        # fillers and courtesy
        "问题", "方式", "方法", "情况", "事情", "事宜", "相关", "关于", "有关", "一下",
        "一个", "这个", "那个", "这些", "那些", "请问", "你好", "您好", "谢谢", "麻烦",
        "需要", "希望", "想要", "想问", "咨询", "已经", "还是", "没有", "现在", "时候",
        "一直", "我们", "你们", "他们", "我家", "我的", "自己", "不能", "不了", "之后",
        "以后", "后来", "然后", "但是", "因为", "所以", "如果", "还有", "就是", "而且",
        # generic request verbs that precede the topic (申请临时停车位, 办理门禁卡, 开具发票)
        "申请", "办理", "开具",
    )
)  # fmt: skip


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
            "this_month": kpi_value(data["kpis"], g.kpi),
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


_CHART_WIDTH = 320


def _chart(counts: dict[str, int], name: Callable[[str], str]) -> str:
    """Bars largest first; narrow enough for two side by side on an A4 page, so the KPI
    table can start on page one."""
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return charts.bar_chart([(name(key), n) for key, n in rows], width=_CHART_WIDTH)


def _count(n: float) -> str:
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.2f}"


def _kpi_row(key: str, figure: Mapping[str, Any], *, detail: str = "") -> dict[str, Any]:
    """One line of the KPI table: name, value, and the numerator and denominator behind it
    (for a duration the numerator is the total time, shown as a duration too); ``detail``
    qualifies the name (the target a share is counted against)."""
    numerator = figure["numerator"]
    return {
        "key": key,
        "name": display.kpi_name(key),
        "detail": detail,
        "figure": figure,
        "text": display.value_text(key, figure["value"]),
        "numerator": display.duration(numerator)
        if display.is_duration(key) and numerator
        else _count(numerator),
        "denominator": _count(figure["denominator"]),
    }


def _first_response_rows(
    fr: dict[str, Any], *, key: str = "first_response", mean: bool = True
) -> list[dict[str, Any]]:
    """A first response time as three lines: mean (unless another line shows it), median
    and share within target (with the target, when the figure has one of its own)."""
    median = {
        "key": f"{key}.median",
        "name": display.kpi_name(f"{key}.median"),
        "detail": "",
        "text": display.duration(fr["median"]),
        "numerator": "",
        "denominator": _count(fr["denominator"]),
    }
    target = fr.get("target_s")
    detail = display.response_target_text(target) if target is not None else ""
    within = _kpi_row(f"{key}.within_target", fr["within_target"], detail=detail)
    return [_kpi_row(key, fr), median, within] if mean else [median, within]


def _chat_rows(k: dict[str, Any]) -> list[dict[str, Any]]:
    """The live chat table: the ``display.CHAT_KPIS`` the data has (an issued snapshot from
    before live chat has only the chat tickets' ``aht_chat``)."""
    rows: list[dict[str, Any]] = []
    for key in display.CHAT_KPIS:
        if key not in k:
            continue
        if key == "chat_first_response":
            rows += _first_response_rows(k[key], key=key, mean=False)
        else:
            rows.append(_kpi_row(key, k[key]))
    return rows


def _chat_agent_rows(agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**row, "first_response_text": display.duration(row["first_response"]["value"])}
        for row in agents
    ]


def _period_text(period: dict[str, Any]) -> dict[str, str]:
    """The period's first and last day (the data's end is exclusive: the next month's 1st)."""
    start = datetime.fromisoformat(period["start"]).date()
    last = datetime.fromisoformat(period["end"]).date() - timedelta(days=1)
    return {
        "title": display.month_title(period["label"]),
        "first_day": start.isoformat(),
        "last_day": last.isoformat(),
    }


def report_context(data: dict[str, Any], *, plan: str = "") -> dict[str, Any]:
    """What the report template needs: the data plus display strings and charts."""
    k = data["kpis"]
    volume = data["volume"]
    contract = data.get("contract")
    return {
        "data": data,
        "plan": plan,
        "period": _period_text(data["period"]),
        "short_abandon_s": kpi.SHORT_ABANDON_S,
        "kpi_rows": [_kpi_row(key, k[key]) for key in display.REPORT_KPIS if key in k],
        "first_response_rows": _first_response_rows(k["first_response"]),
        "chat_rows": _chat_rows(k),
        # Figures from live chats (a snapshot issued before them has the tickets' AHT only).
        "live_chat": "asa_chat" in k,
        "chat_agents": _chat_agent_rows(data.get("chat_agents", [])),
        "survey_rows": _survey_rows(data.get("surveys_by_channel", {})),
        "sla_rows": [_kpi_row(key, f) for key, f in k.items() if key.startswith("sla.")],
        "contract_rows": display.contract_rows(contract) if contract else [],
        "credit": contract
        and {
            "total": display.money(contract["credit"], contract["currency"]),
            "before_cap": display.money(contract["credit_before_cap"], contract["currency"]),
            "cap": display.money(contract["credit_cap"], contract["currency"]),
        },
        "goals": display.goal_rows(data.get("improvement_goals", [])),
        "chart_channels": _chart(volume["by_channel"], display.channel_name),
        "chart_kinds": _chart(volume["by_kind"], display.kind_name),
    }


def _survey_rows(by_channel: Mapping[str, Any]) -> list[dict[str, Any]]:
    """CSAT and the response rate of each channel the surveys went by, with their counts
    (a snapshot issued before kefu sent its own surveys has none)."""
    rows = []
    for channel, figures in by_channel.items():
        rows.append(
            {
                "channel": channel,
                "name": display.survey_channel_name(channel),
                "sent": figures["surveys_sent"],
                "answered": figures["surveys_answered"],
                "csat": _kpi_row("csat", figures["csat"]),
                "response": _kpi_row("survey_response_rate", figures["survey_response_rate"]),
            }
        )
    return rows


def render_html(
    data: dict[str, Any], *, plan: str = "", standalone: bool = True, stamp: str = ""
) -> str:
    """``stamp``: the issued version's line (version, issue time, review state) printed at
    the top; empty for live figures."""
    return render_to_string(
        "reports/monthly_document.html",
        {**report_context(data, plan=plan), "standalone": standalone, "stamp": stamp},
    )


def render_pdf(data: dict[str, Any], *, plan: str = "", stamp: str = "") -> bytes:
    from weasyprint import CSS, HTML

    css = CSS(filename=str(settings.BASE_DIR / "static" / "kefu" / "report.css"))
    return HTML(string=render_html(data, plan=plan, stamp=stamp)).write_pdf(stylesheets=[css])


def render_xlsx(data: dict[str, Any]) -> bytes:
    from kefu.reports.workbook import report_workbook

    return report_workbook(data)


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


_QUARTER_TREND = (
    *display.REPORT_KPIS,
    "first_response",
    "first_response.within_target",
    "chat_abandon_rate",
    "asa_chat",
    "chat_first_response.within_target",
    "aht_chat",
)


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
    # Month by month, the value of each KPI the pack compares (None: no value that month);
    # seconds for the time KPIs, fractions for the rates, as in the monthly JSON.
    trend = [
        {"key": key, "values": [kpi_value(m["data"]["kpis"], key) for m in months]}
        for key in _QUARTER_TREND
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


def quarter_context(q: dict[str, Any]) -> dict[str, Any]:
    """What the quarterly template needs: ``quarter_build``'s data plus display strings."""
    currency = next(
        (m["data"]["contract"]["currency"] for m in q["months"] if m["data"].get("contract")),
        "CNY",
    )
    trend = [
        {
            "name": display.kpi_name(row["key"]),
            "cells": [display.value_text(row["key"], value) for value in row["values"]],
        }
        for row in q["trend"]
    ]
    return {
        "q": q,
        "trend": trend,
        "credits": [display.money(c, currency) for c in q["credits"]],
        "credit_total": display.money(q["credit_total"], currency),
        "contracts": [
            {"month": m["month"], "rows": display.contract_rows(m["data"]["contract"])}
            for m in q["months"]
            if m["data"].get("contract")
        ],
        "goals": display.goal_rows(q["improvement_goals"]),
    }


def render_quarter_html(data: dict[str, Any]) -> str:
    return render_to_string("reports/quarterly_document.html", quarter_context(data))


def render_quarter_pdf(data: dict[str, Any]) -> bytes:
    from weasyprint import CSS, HTML

    css = CSS(filename=str(settings.BASE_DIR / "static" / "kefu" / "report.css"))
    return HTML(string=render_quarter_html(data)).write_pdf(stylesheets=[css])
