from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.accounts.roles import Perm, Role
from kefu.contracts.models import Client
from kefu.contracts.selectors import clients_visible_to
from kefu.core.params import date_in_range
from kefu.core.tenancy import get_visible_or_404
from kefu.phone.models import Call
from kefu.reports import display, review, services
from kefu.reports.evaluation import evaluate, kpi_value
from kefu.reports.models import ReportReview, ServiceReport
from kefu.reports.periods import Period, month
from kefu.reports.selectors import client_kpis, contract_for
from kefu.surveys.models import Survey


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.has_kefu_perm(Perm.OVERVIEW_VIEW):
        raise PermissionDenied
    return user


def _client(user: User, code: str) -> Client:
    client = clients_visible_to(user).filter(code=code).first()
    if client is None:
        raise Http404("no such client")
    return client


def _period(client: Client, text: str) -> Period:
    """The month ``YYYY-MM`` of a URL in the client's zone; malformed or out of range → 400."""
    try:
        period = month(text, client.time_zone)
    except ValueError as exc:
        raise BadRequest("月份格式应为 YYYY-MM / month: expected YYYY-MM") from exc
    date_in_range(period.start.date(), name="month")
    return period


def _month(text: str, client: Client) -> str:
    return _period(client, text).label


def _recent_months(n: int = 3) -> list[str]:
    first = timezone.localdate().replace(day=1)
    out = []
    for _step in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first.strftime("%Y-%m"))
    return out


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    issued = ServiceReport.objects.visible_to(user).select_related("client")[:100]
    return render(
        request,
        "reports/index.html",
        {
            "clients": clients_visible_to(user),
            "months": _recent_months(),
            "issued": issued,
            "can_issue": user.role in (Role.ADMIN, Role.SUPERVISOR),
        },
    )


def _links(client: Client, label: str) -> dict[str, str]:
    base = f"/tickets/?client={client.code}&status="
    return {
        "created": f"{base}&period={label}",
        "resolved": f"{base}&resolved={label}",
        "complaints": f"{base}&period={label}&kind=complaint",
        "calls": f"/reports/calls/{client.code}/{label}/",
        "surveys": f"/reports/surveys/{client.code}/{label}/",
    }


@login_required
@require_GET
def monthly(request: HttpRequest, code: str, label: str) -> HttpResponse:
    user = _user(request)
    client = _client(user, code)
    label = _month(label, client)
    data = services.report_build(client, label)
    context: dict[str, Any] = services.report_context(data)
    context.update(
        client=client,
        label=label,
        links=_links(client, label),
        live=True,
        can_issue=user.role in (Role.ADMIN, Role.SUPERVISOR),
    )
    return render(request, "reports/report_page.html", context)


@login_required
@require_POST
def issue(request: HttpRequest, code: str, label: str) -> HttpResponse:
    user = _user(request)
    client = _client(user, code)
    report = services.report_issue(
        client=client,
        month_label=_month(label, client),
        actor=user,
        plan=request.POST.get("plan", "")[:5000],
    )
    messages.success(request, f"已发布 {report.period} v{report.version}")
    return redirect("reports:issued", pk=report.pk)


@login_required
@require_GET
def issued(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    report = get_visible_or_404(ServiceReport, user, pk=pk)
    context: dict[str, Any] = services.report_context(report.data, plan=report.plan)
    context.update(
        report=report,
        client=report.client,
        label=report.period,
        links=_links(report.client, report.period),
    )
    context.update(_review_context(user, report))
    return render(request, "reports/report_page.html", context)


def _review_context(user: User, report: ServiceReport) -> dict[str, Any]:
    state = review.report_review_state(report)
    may_review = user.role == Role.AUDITOR and state.current and not state.signed
    return {
        "review_state": state,
        "stamp": review.report_stamp(report, state),
        "reviews": report.reviews.select_related("by", "answered_by"),
        "can_sign": may_review,
        "can_dispute": may_review,
        "can_answer": user.role in (Role.ADMIN, Role.SUPERVISOR),
        "latest_url": (
            None
            if state.current
            else ServiceReport.objects.visible_to(user)
            .filter(client=report.client, period=report.period, version=state.latest_version)
            .values_list("pk", flat=True)
            .first()
        ),
    }


_FILE_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def issued_file(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """The issued report as PDF or Excel. The download's name is kefu's own (client code,
    period, version and the format's extension), never text from the URL; another
    extension is 404."""
    if kind not in _FILE_TYPES:
        raise Http404("no such format")
    user = _user(request)
    report = get_visible_or_404(ServiceReport, user, pk=pk)
    if kind == "pdf":
        body = services.render_pdf(report.data, plan=report.plan, stamp=review.report_stamp(report))
    else:
        body = services.render_xlsx(report.data)
    return FileResponse(
        io.BytesIO(body),
        as_attachment=True,
        filename=f"{report.client.code}-{report.period}-v{report.version}.{kind}",
        content_type=_FILE_TYPES[kind],
    )


@login_required
@require_POST
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    """The auditor signs the version off; the form asks them to confirm they checked it."""
    user = _user(request)
    report = get_visible_or_404(ServiceReport, user, pk=pk)
    if user.role != Role.AUDITOR:
        raise PermissionDenied
    if request.POST.get("checked") != "yes":
        messages.error(request, _("请先勾选“我已核对本版本的数据”再确认。"))
        return redirect("reports:issued", pk=report.pk)
    try:
        review.report_sign_off(report=report, actor=user, comment=request.POST.get("comment", ""))
        messages.success(
            request, _("已确认 v%(version)s，已记入审计日志。") % {"version": report.version}
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:issued", pk=report.pk)


@login_required
@require_POST
def dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """The auditor disputes the version with a reason; the provider answers it here."""
    user = _user(request)
    report = get_visible_or_404(ServiceReport, user, pk=pk)
    try:
        review.report_dispute(report=report, actor=user, reason=request.POST.get("reason", ""))
        messages.success(request, _("异议已提交，乙方答复后会显示在此页。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:issued", pk=report.pk)


@login_required
@require_POST
def dispute_answer(request: HttpRequest, review_id: int) -> HttpResponse:
    user = _user(request)
    found = get_visible_or_404(ReportReview, user, pk=review_id)
    try:
        review.report_dispute_answer(
            review=found, actor=user, answer=request.POST.get("answer", "")
        )
        messages.success(request, _("已答复异议。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:issued", pk=found.report_id)


_DASHBOARD_KPIS = (
    "csat",
    "survey_response_rate",
    "fcr",
    "service_level",
    "asa",
    "aht_call",
    "abandon_rate",
    "asa_chat",
    "chat_queue_wait",
    "chat_first_response.within_target",
    "chat_abandon_rate",
    "aht_chat",
    "chats_per_agent",
    "resolution_rate",
    "complaint_rate",
    "sla.first_response",
    "sla.resolution",
)


def _dashboard_row(key: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    """One KPI across the dashboard's periods, each cell with its contract verdict."""
    cells = []
    for col in columns:
        value = kpi_value(col["data"]["kpis"], key)
        verdict = None
        if col["contract"]:
            verdict = next((t for t in col["contract"]["targets"] if t["kpi"] == key), None)
        cells.append(
            {
                "text": display.value_text(key, value),
                "passed": verdict["passed"] if verdict else None,
                "target": verdict
                and display.target_text(key, verdict["comparison"], verdict["target"]),
            }
        )
    return {"key": key, "name": display.kpi_name(key), "cells": cells}


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    """Today, this month and last month against the contract, each figure linked to the
    tickets behind it."""
    user = _user(request)
    client = _client(user, code)
    today = timezone.localdate()
    this = month(today.strftime("%Y-%m"), client.time_zone)
    last = month(_recent_months(1)[0], client.time_zone)
    start = timezone.localtime(this.end).replace(
        year=today.year, month=today.month, day=today.day, hour=0, minute=0
    )
    periods = [Period(start, start + timedelta(days=1), today.isoformat()), this, last]
    columns: list[dict[str, Any]] = []
    for period in periods:
        contract = contract_for(client, period)
        data = client_kpis(
            client, period, service_level_s=contract.service_level_seconds if contract else 20
        )
        columns.append(
            {
                "period": period,
                "data": data,
                "contract": evaluate(contract, data["kpis"]) if contract else None,
                "link": _links(client, period.label)["created"],
            }
        )
    rows = [_dashboard_row(key, columns) for key in _DASHBOARD_KPIS]
    return render(
        request,
        "reports/dashboard.html",
        {
            "client": client,
            "columns": columns,
            "rows": rows,
            "chat_target": _chat_target_text(columns),
            "agents": _dashboard_agents(columns),
            "surveys": _dashboard_surveys(client, columns),
        },
    )


def _dashboard_surveys(client: Client, columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CSAT and the response rate per survey channel across the dashboard's periods, each
    with its counts and, for a month, a link to the surveys behind it."""
    channels = sorted({ch for col in columns for ch in col["data"]["surveys_by_channel"]})
    rows = []
    for channel in channels:
        cells = []
        for col in columns:
            figures = col["data"]["surveys_by_channel"].get(channel)
            label = col["period"].label
            is_month = len(label) == 7
            cells.append(
                figures
                and {
                    "csat": display.value_text("csat", figures["csat"]["value"]),
                    "satisfied": figures["csat"]["numerator"],
                    "answered": figures["surveys_answered"],
                    "response": display.value_text(
                        "survey_response_rate", figures["survey_response_rate"]["value"]
                    ),
                    "sent": figures["surveys_sent"],
                    "link": is_month
                    and f"/reports/surveys/{client.code}/{label}/?channel={channel}",
                }
            )
        rows.append(
            {"channel": channel, "name": display.survey_channel_name(channel), "cells": cells}
        )
    return rows


def _chat_target_text(columns: list[dict[str, Any]]) -> str:
    """The chat first-response target the share is counted against (the same policy for
    every column), as the contract states it; empty without one."""
    target = columns[0]["data"]["kpis"]["chat_first_response"]["target_s"]
    return "" if target is None else display.response_target_text(target)


def _dashboard_agents(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered chats per agent across the dashboard's periods: an agent who answered any
    chat in one of them has a line, with "—" where they answered none; busiest this month
    first."""
    names: dict[int, str] = {}
    counts: dict[int, list[int | None]] = {}
    for i, col in enumerate(columns):
        for row in col["data"]["chat_agents"]:
            names[row["agent_id"]] = row["agent"]
            counts.setdefault(row["agent_id"], [None] * len(columns))[i] = row["answered"]
    this_month = 1  # the columns: today, this month, last month
    ordered = sorted(counts, key=lambda pk: (-(counts[pk][this_month] or 0), names[pk]))
    return [{"agent": names[pk], "cells": counts[pk]} for pk in ordered]


def _drill_down(
    request: HttpRequest,
    code: str,
    label: str,
    model: Any,
    stamp: str,
    answered_field: str,
    template: str,
    related: tuple[str, ...] = ("ticket",),
    channel_field: str = "",
) -> HttpResponse:
    """The rows behind one month's figure: the model's rows whose ``stamp`` falls in the
    month, optionally only answered (``?answered=1``) or unanswered (``?answered=0``)."""
    user = _user(request)
    client = _client(user, code)
    period = _period(client, label)
    rows = model.objects.visible_to(user).filter(
        client=client, **{f"{stamp}__gte": period.start, f"{stamp}__lt": period.end}
    )
    answered = request.GET.get("answered", "")
    channel = request.GET.get("channel", "")
    if channel and channel_field:
        rows = rows.filter(**{channel_field: channel})
    if answered in ("0", "1"):
        rows = rows.filter(**{f"{answered_field}__isnull": answered == "0"})
    return render(
        request,
        template,
        {
            "client": client,
            "label": period.label,
            "count": rows.count(),
            "answered": answered,
            "channel": channel,
            "rows": rows.select_related(*related).order_by(stamp)[:1000],
        },
    )


@login_required
@require_GET
def calls(request: HttpRequest, code: str, label: str) -> HttpResponse:
    """The calls behind the month's call figures (offered in the month)."""
    return _drill_down(
        request, code, label, Call, "offered_at", "answered_at", "reports/calls.html"
    )


@login_required
@require_GET
def surveys(request: HttpRequest, code: str, label: str) -> HttpResponse:
    """The surveys behind the month's CSAT and response rate (sent in the month)."""
    return _drill_down(
        request,
        code,
        label,
        Survey,
        "sent_at",
        "score",
        "reports/surveys.html",
        channel_field="channel",
    )
