"""How report figures read for people: KPI names, durations, percentages, contract targets
and money. One place, used by the monthly report (HTML, PDF, XLSX), the quarterly review
and the dashboard, so a KPI is called and shown the same way everywhere.

The figures themselves (``kefu.reports.kpi``, the JSON format) keep their keys, fractions
and exact seconds; only what is put in front of a reader goes through here. Every function
returns "—" for a missing value (DESIGN.md: an empty denominator is never 0 % or 100 %)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.contracts.models import ActionStatus, Comparison
from kefu.sla.models import Metric, goal_text
from kefu.tickets.models import Channel, Kind

EMPTY = "—"


@dataclass(frozen=True)
class KpiName:
    """A KPI as a reader knows it: the Chinese name (translated) and, beside it, the
    English term or abbreviation the industry uses (CSAT, FCR, AHT …)."""

    name: str | Promise
    short: str

    @property
    def beside(self) -> str:
        """The term to show beside the name: none when the name, read in English, already
        says it ("Resolution rate", not "Resolution rate resolution rate")."""
        return "" if self.short.lower() in str(self.name).lower() else self.short

    def __str__(self) -> str:
        return f"{self.name} {self.beside}".rstrip()


_KPI_NAMES: dict[str, KpiName] = {
    "csat": KpiName(_("客户满意度"), "CSAT"),
    "survey_response_rate": KpiName(_("回访参评率"), "response rate"),
    "fcr": KpiName(_("一次解决率"), "FCR"),
    "resolution_rate": KpiName(_("解决率"), "resolution rate"),
    "complaint_rate": KpiName(_("投诉率"), "complaint rate"),
    "service_level": KpiName(_("服务水平"), "service level"),
    "abandon_rate": KpiName(_("放弃率"), "abandon rate"),
    "asa": KpiName(_("平均应答速度"), "ASA"),
    "aht_call": KpiName(_("通话平均处理时长"), "AHT (call)"),
    "aht_chat": KpiName(_("在线平均处理时长"), "AHT (chat)"),
    "first_response": KpiName(_("首次响应时长"), "first response"),
    "first_response.median": KpiName(_("首次响应时长（中位数）"), "first response (median)"),
    "first_response.within_target": KpiName(_("首次响应达标率"), "first response within target"),
    "asa_chat": KpiName(_("在线平均应答速度"), "ASA (chat)"),
    "chat_queue_wait": KpiName(_("在线平均排队时长"), "chat queue wait"),
    "chat_first_response": KpiName(_("在线首次响应时长"), "chat first response"),
    "chat_first_response.median": KpiName(
        _("在线首次响应时长（中位数）"), "chat first response (median)"
    ),
    "chat_first_response.within_target": KpiName(
        _("在线首次响应达标率"), "chat first response within target"
    ),
    "chat_abandon_rate": KpiName(_("在线放弃率"), "chat abandon rate"),
    "chats_per_agent": KpiName(_("人均应答会话数"), "chats per agent"),
    # The SLA clocks' own labels, so the report says what the SLA screens say.
    **{
        f"sla.{metric.value}": KpiName(metric.label, metric.value.replace("_", " "))
        for metric in Metric
    },
}

# The ratios of the report's KPI table, in reading order: satisfaction, tickets, calls.
RATIO_KPIS = (
    "csat",
    "survey_response_rate",
    "fcr",
    "resolution_rate",
    "complaint_rate",
    "service_level",
    "abandon_rate",
)
DURATION_KPIS = (
    "asa",
    "aht_call",
    "aht_chat",
    "first_response",
    "asa_chat",
    "chat_queue_wait",
    "chat_first_response",
)
# Figures that are neither a share nor a time: a number of things per someone.
NUMBER_KPIS = ("chats_per_agent",)
# The report's KPI table (first response, with its median and share, follows it).
REPORT_KPIS = (*RATIO_KPIS, "asa", "aht_call")
# The report's live chat table, in reading order; the chat first response shows as its
# median and share within target (its mean is the chat ASA).
CHAT_KPIS = (
    "chat_abandon_rate",
    "chat_queue_wait",
    "asa_chat",
    "chat_first_response",
    "aht_chat",
    "chats_per_agent",
)

VOLUME_NAMES: dict[str, str | Promise] = {
    "tickets": _("新建工单"),
    "resolved_in_period": _("本月解决"),
    "calls_offered": _("来电"),
    "calls_answered": _("接通"),
    "calls_abandoned": _("放弃"),
    "chats_offered": _("在线会话数"),
    "chats_answered": _("在线应答"),
    "chats_abandoned": _("在线放弃"),
    "chats_short_abandoned": _("在线短时放弃（5 秒内）"),
    "surveys_sent": _("回访发送"),
    "surveys_answered": _("回访回复"),
    "by_channel": _("按渠道"),
    "by_kind": _("按类型"),
}


def kpi_name(key: str) -> KpiName:
    """The name of a KPI key of DESIGN.md; an unknown key (a figure added later, an old
    snapshot) reads as itself rather than failing the report."""
    return _KPI_NAMES.get(key) or KpiName(key, "")


def is_duration(key: str) -> bool:
    return key in DURATION_KPIS or key.endswith(".median")


def is_number(key: str) -> bool:
    return key in NUMBER_KPIS


def unit(key: str) -> str:
    """The unit of a KPI's value in the JSON: seconds, a fraction, or a plain number."""
    if is_duration(key):
        return "s"
    return "n" if is_number(key) else "%"


def percent(value: float | None, *, digits: int = 1) -> str:
    """``0.665`` → ``"66.5%"``."""
    if value is None:
        return EMPTY
    return f"{value * 100:.{digits}f}%"


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: ``14.0 秒`` under a minute, ``44 分 46 秒`` under an
    hour, ``1 小时 2 分`` from an hour on (seconds no longer matter at that scale)."""
    if seconds is None:
        return EMPTY
    if round(seconds, 1) < 60:
        return gettext("%(seconds).1f 秒") % {"seconds": seconds}
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        if rest == 0:
            return gettext("%(minutes)d 分") % {"minutes": minutes}
        return gettext("%(minutes)d 分 %(seconds)d 秒") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(round(seconds / 60), 60)
    if minutes == 0:
        return gettext("%(hours)d 小时") % {"hours": hours}
    return gettext("%(hours)d 小时 %(minutes)d 分") % {"hours": hours, "minutes": minutes}


def number(value: float | None) -> str:
    """``1.5`` → ``"1.5"``, ``12.0`` → ``"12"``."""
    return EMPTY if value is None else _plain_number(value)


def value_text(key: str, value: float | None) -> str:
    """A KPI value: a duration for the time KPIs, a number for the counts, else a
    percentage."""
    if is_duration(key):
        return duration(value)
    return number(value) if is_number(key) else percent(value)


def _plain_number(value: float) -> str:
    """``75.0`` → ``"75"``, ``95.5`` → ``"95.5"``: targets are round numbers in contracts."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def target_text(key: str, comparison: str, target: float) -> str:
    """A contract target as the contract states it: ``≥ 75%``, ``≤ 20 秒``, and a duration
    target from a minute on also in minutes (``≤ 420 秒（7 分）``) to compare with the
    actual value beside it."""
    sign = Comparison(comparison).label
    if is_number(key):
        return f"{sign} {_plain_number(target)}"
    if not is_duration(key):
        return f"{sign} {_plain_number(target * 100)}%"
    seconds = gettext("%(seconds)s 秒") % {"seconds": _plain_number(target)}
    if target < 60:
        return f"{sign} {seconds}"
    return f"{sign} {seconds}（{duration(target)}）"


def response_target_text(seconds: float) -> str:
    """The SLA target a share within target is counted against, as the SLA screens state
    it: ``≤ 1 分钟``, ``≤ 90 秒``."""
    return f"{Comparison.AT_MOST.label} {goal_text(round(seconds))}"


def goal_value_text(key: str, value: float | None) -> str:
    """A baseline or goal of an improvement target: like a target, without the sign."""
    if value is None:
        return EMPTY
    if is_duration(key):
        return duration(value)
    if is_number(key):
        return _plain_number(value)
    return f"{_plain_number(value * 100)}%"


def money(amount: float, currency: str) -> str:
    """``13020.0, "CNY"`` → ``"13,020.00 元"``; another currency keeps its code."""
    unit = gettext("元") if currency == "CNY" else currency
    return f"{amount:,.2f} {unit}"


def verdict(passed: bool | None) -> str:
    if passed is None:
        return EMPTY
    return gettext("达标") if passed else gettext("未达标")


def action_status(status: str) -> str:
    """The label of an improvement action's status; an unknown one reads as itself."""
    return str(ActionStatus(status).label) if status in ActionStatus.values else status


def month_title(label: str) -> str:
    """``"2026-10"`` → ``"2026 年 10 月"``."""
    year, month = (int(part) for part in label.split("-"))
    return gettext("%(year)d 年 %(month)d 月") % {"year": year, "month": month}


def channel_name(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value


def survey_channel_name(value: str) -> str:
    """The way a survey went: a ticket channel, or a link by SMS."""
    if value == "sms":
        return str(_("短信链接"))
    return channel_name(value)


def kind_name(value: str) -> str:
    return str(Kind(value).label) if value in Kind.values else value


def contract_rows(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a contract evaluation (``kefu.reports.evaluation.evaluate``) with what
    a reader sees: the name, the actual value, the target and the verdict."""
    return [
        {
            **row,
            "value_text": value_text(row["kpi"], row["value"]),
            "target_text": target_text(row["kpi"], row["comparison"], row["target"]),
            "verdict": verdict(row["passed"]),
            "credit_text": money(row["credit"], evaluation["currency"]),
        }
        for row in evaluation["targets"]
    ]


def goal_reached(goal: dict[str, Any]) -> bool | None:
    """Whether this month's figure is at the goal, in the goal's direction (a goal below
    its baseline, such as a handling time, is reached from above). None without a figure."""
    value = goal["this_month"]
    if value is None:
        return None
    if goal["target"] >= goal["baseline"]:
        return bool(value >= goal["target"])
    return bool(value <= goal["target"])


def goal_rows(goals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Improvement goals (``report_build``'s ``improvement_goals``) ready to read."""
    return [
        {
            **goal,
            "name": kpi_name(goal["kpi"]),
            "reached": goal_reached(goal),
            "baseline_text": goal_value_text(goal["kpi"], goal["baseline"]),
            "this_month_text": value_text(goal["kpi"], goal["this_month"]),
            "target_text": goal_value_text(goal["kpi"], goal["target"]),
            "actions": [
                {**action, "status_text": action_status(action.get("status", ""))}
                for action in goal["actions"]
            ],
        }
        for goal in goals
    ]
