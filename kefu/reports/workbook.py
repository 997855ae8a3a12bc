"""The monthly report as an Excel workbook: the same tables as the PDF, named the same way
(``kefu.reports.display``), with the figures kept as numbers a client can calculate with —
ratios formatted as percentages, durations in seconds — and the key of DESIGN.md beside
each name for whoever matches the sheet against the JSON."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kefu.core.export import xlsx_append
from kefu.reports import display

_PERCENT = "0.0%"
_SECONDS = "0.0"
_NUMBER = "0.0"
_COUNT = "0"
_UNITS = {"s": ("秒", _SECONDS), "n": ("个", _NUMBER), "%": ("%", _PERCENT)}


def _header(sheet: Worksheet, titles: list[str], widths: list[int]) -> None:
    xlsx_append(sheet, titles)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _figure_row(sheet: Worksheet, key: str, figure: Mapping[str, Any]) -> None:
    """Name, key, value (a percentage, seconds or a number), unit, how it reads, numerator,
    denominator."""
    unit, value_format = _UNITS[display.unit(key)]
    xlsx_append(
        sheet,
        [
            str(display.kpi_name(key)),
            key,
            figure["value"],
            unit,
            display.value_text(key, figure["value"]),
            figure["numerator"],
            figure["denominator"],
        ],
    )
    row = sheet.max_row
    sheet.cell(row, 3).number_format = value_format
    sheet.cell(row, 6).number_format = _SECONDS if display.is_duration(key) else _COUNT


def _kpi_sheet(sheet: Worksheet, kpis: Mapping[str, Any]) -> None:
    sheet.title = "绩效指标 KPI"
    _header(
        sheet,
        ["指标", "代码 key", "值 value", "单位", "显示", "分子 numerator", "分母 denominator"],
        [34, 30, 12, 6, 16, 16, 16],
    )
    # The report's order first; a figure the report does not list yet still gets its line.
    order = [*display.REPORT_KPIS, "first_response", *display.CHAT_KPIS]
    order += [key for key in kpis if key not in order and not key.startswith("sla.")]
    for key in order:
        if key not in kpis:
            continue
        _figure_row(sheet, key, kpis[key])
        if key in ("first_response", "chat_first_response"):
            _first_response_rows(sheet, key, kpis[key])


def _first_response_rows(sheet: Worksheet, key: str, figure: Mapping[str, Any]) -> None:
    """The median and the share within target, which the JSON nests in the figure (and the
    chat figure's target, in seconds, beside its share)."""
    xlsx_append(
        sheet,
        [
            str(display.kpi_name(f"{key}.median")),
            f"{key}.median",
            figure["median"],
            "秒",
            display.duration(figure["median"]),
        ],
    )
    sheet.cell(sheet.max_row, 3).number_format = _SECONDS
    _figure_row(sheet, f"{key}.within_target", figure["within_target"])
    if figure.get("target_s") is not None:
        xlsx_append(
            sheet,
            [
                "目标（秒）",
                f"{key}.target_s",
                figure["target_s"],
                "秒",
                display.duration(figure["target_s"]),
            ],
        )


def _chat_agents_sheet(sheet: Worksheet, agents: list[dict[str, Any]]) -> None:
    _header(
        sheet,
        ["坐席", "应答会话 answered", "平均首次响应（秒）", "首次响应合计（秒）"],
        [20, 18, 20, 20],
    )
    for row in agents:
        fr = row["first_response"]
        xlsx_append(sheet, [row["agent"], row["answered"], fr["value"], fr["numerator"]])
        sheet.cell(sheet.max_row, 3).number_format = _SECONDS
        sheet.cell(sheet.max_row, 4).number_format = _SECONDS


def _surveys_sheet(sheet: Worksheet, by_channel: Mapping[str, Any]) -> None:
    """CSAT and the response rate per channel the surveys went by, with their counts."""
    _header(
        sheet,
        ["回访渠道", "渠道 channel", "发送 sent", "回复 answered", "满意 4–5", "满意度 CSAT",
         "参评率 response rate"],
        [14, 12, 10, 14, 10, 14, 18],
    )  # fmt: skip
    for channel, f in by_channel.items():
        xlsx_append(
            sheet,
            [
                display.survey_channel_name(channel),
                channel,
                f["surveys_sent"],
                f["surveys_answered"],
                f["csat"]["numerator"],
                f["csat"]["value"],
                f["survey_response_rate"]["value"],
            ],
        )
        sheet.cell(sheet.max_row, 6).number_format = _PERCENT
        sheet.cell(sheet.max_row, 7).number_format = _PERCENT


def _sla_sheet(sheet: Worksheet, kpis: Mapping[str, Any]) -> None:
    _header(
        sheet,
        ["时效", "代码 key", "达成率", "单位", "显示", "达成 met", "考核 met + breached"],
        [26, 22, 12, 6, 12, 12, 20],
    )
    for key, figure in kpis.items():
        if key.startswith("sla."):
            _figure_row(sheet, key, figure)


def _volume_sheet(sheet: Worksheet, volume: Mapping[str, Any]) -> None:
    _header(sheet, ["项目", "代码 key", "数量"], [26, 26, 10])
    names = {"by_channel": display.channel_name, "by_kind": display.kind_name}
    for key, value in volume.items():
        title = str(display.VOLUME_NAMES.get(key, key))
        if isinstance(value, dict):
            for sub, n in sorted(value.items()):
                xlsx_append(sheet, [f"{title}：{names[key](sub)}", f"{key}.{sub}", n])
        else:
            xlsx_append(sheet, [title, key, value])


def _contract_sheet(sheet: Worksheet, contract: Mapping[str, Any]) -> None:
    _header(
        sheet,
        [
            "考核项",
            "代码 key",
            "实际",
            "显示",
            "目标",
            "结果",
            f"服务抵扣（{contract['currency']}）",
        ],
        [26, 30, 12, 16, 22, 10, 18],
    )
    for row in display.contract_rows(dict(contract)):
        xlsx_append(
            sheet,
            [
                row["label"],
                row["kpi"],
                row["value"],
                row["value_text"],
                row["target_text"],
                row["verdict"],
                row["credit"],
            ],
        )
        last = sheet.max_row
        sheet.cell(last, 3).number_format = _UNITS[display.unit(row["kpi"])][1]
        sheet.cell(last, 7).number_format = "#,##0.00"
    for label, key in (
        ("服务抵扣合计（封顶后）", "credit"),
        ("封顶前", "credit_before_cap"),
        ("抵扣上限", "credit_cap"),
    ):
        xlsx_append(sheet, [label, None, None, None, None, None, contract[key]])
        sheet.cell(sheet.max_row, 7).number_format = "#,##0.00"


def _goals_sheet(sheet: Worksheet, goals: list[dict[str, Any]]) -> None:
    _header(
        sheet,
        ["改进目标", "基线", "本月", "目标", "期限", "改进措施", "负责人", "完成期限", "状态"],
        [30, 12, 12, 12, 12, 40, 12, 12, 10],
    )
    for goal in display.goal_rows(goals):
        head = [
            str(goal["name"]),
            goal["baseline_text"],
            goal["this_month_text"],
            goal["target_text"],
            goal["due"],
        ]
        actions = goal["actions"] or [{}]
        for action in actions:
            xlsx_append(
                sheet,
                [
                    *head,
                    action.get("description", ""),
                    action.get("owner", ""),
                    action.get("due") or "",
                    action.get("status_text", ""),
                ],
            )


def report_workbook(data: dict[str, Any]) -> bytes:
    """``report_build``'s data (or an issued snapshot) as an .xlsx file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    _kpi_sheet(sheet, data["kpis"])
    _sla_sheet(book.create_sheet("时效达成率 SLA"), data["kpis"])
    _volume_sheet(book.create_sheet("服务量 Volume"), data["volume"])
    if data.get("chat_agents"):
        _chat_agents_sheet(book.create_sheet("坐席应答 Chats per agent"), data["chat_agents"])
    if data.get("surveys_by_channel"):
        _surveys_sheet(book.create_sheet("满意度 Surveys"), data["surveys_by_channel"])
    if data.get("contract"):
        _contract_sheet(book.create_sheet("合同考核 Contract"), data["contract"])
    if data.get("improvement_goals"):
        _goals_sheet(book.create_sheet("改进目标 Goals"), data["improvement_goals"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
