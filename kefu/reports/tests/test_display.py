"""How figures read in the report: durations, percentages, targets, names."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kefu.contracts.documents import KPI_KEYS
from kefu.reports import display
from kefu.reports.evaluation import kpi_value


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0.0 秒"),
        (13.98, "14.0 秒"),
        (59.94, "59.9 秒"),
        (59.96, "1 分"),
        (364.52, "6 分 5 秒"),
        (420, "7 分"),
        (2685.6, "44 分 46 秒"),
        (3599.4, "59 分 59 秒"),
        (3600, "1 小时"),
        (3720, "1 小时 2 分"),
        (36136.5, "10 小时 2 分"),
        (6034800, "1676 小时 20 分"),
    ],
)
def test_durations_read_as_hours_minutes_seconds(seconds: float | None, text: str) -> None:
    assert display.duration(seconds) == text


def _parse(text: str) -> float:
    """The slow way back: add up every "<number> <unit>" of a duration text."""
    units = {"小时": 3600, "分": 60, "秒": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+) (小时|分|秒)", text))


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_a_duration_text_is_the_seconds_rounded_to_its_last_unit(seconds: float) -> None:
    text = display.duration(seconds)
    # Tenths of a second under a minute, seconds under an hour, then minutes.
    tolerance = 0.05 if "." in text else 30 if "小时" in text else 0.5
    assert abs(_parse(text) - seconds) <= tolerance + 1e-9


@pytest.mark.parametrize(
    ("key", "comparison", "target", "text"),
    [
        ("fcr", ">=", 0.75, "≥ 75%"),
        ("complaint_rate", "<=", 0.03, "≤ 3%"),
        ("sla.resolution", ">=", 0.955, "≥ 95.5%"),
        ("first_response.within_target", ">=", 0.95, "≥ 95%"),
        ("asa", "<=", 20.0, "≤ 20 秒"),
        ("aht_call", "<=", 420.0, "≤ 420 秒（7 分）"),
        ("asa_chat", "<=", 30.0, "≤ 30 秒"),
        ("chat_abandon_rate", "<=", 0.05, "≤ 5%"),
        ("chat_first_response.within_target", ">=", 0.8, "≥ 80%"),
        ("chats_per_agent", ">=", 30.0, "≥ 30"),
    ],
)
def test_contract_targets_read_as_percentages_and_seconds(
    key: str, comparison: str, target: float, text: str
) -> None:
    assert display.target_text(key, comparison, target) == text


def test_values_are_percentages_or_durations_by_kpi() -> None:
    assert display.value_text("fcr", 0.665) == "66.5%"
    assert display.value_text("aht_chat", 506.2) == "8 分 26 秒"
    assert display.value_text("csat", None) == "—"
    assert display.money(13020, "CNY") == "13,020.00 元"
    assert display.money(500, "USD") == "500.00 USD"
    assert display.month_title("2026-10") == "2026 年 10 月"
    # Chats per agent is a number, neither a share nor a time.
    assert display.value_text("chats_per_agent", 41.666) == "41.7"
    assert display.value_text("chats_per_agent", 12.0) == "12"
    assert display.value_text("chat_first_response.median", 42) == "42.0 秒"
    assert display.value_text("chat_abandon_rate", 0.4) == "40.0%"
    assert display.response_target_text(60) == "≤ 1 分钟"
    assert display.response_target_text(90) == "≤ 90 秒"


def test_contract_keys_find_their_figure_in_the_report_data() -> None:
    kpis = {
        "asa_chat": {"value": 46.7, "numerator": 140, "denominator": 3},
        "chat_first_response": {
            "value": 46.7,
            "median": 40.0,
            "within_target": {"value": 0.5, "numerator": 1, "denominator": 2},
        },
        "sla.resolution": {"value": 0.9, "numerator": 9, "denominator": 10},
    }
    assert kpi_value(kpis, "asa_chat") == 46.7
    assert kpi_value(kpis, "chat_first_response.within_target") == 0.5
    assert kpi_value(kpis, "chat_first_response.median") == 40.0
    assert kpi_value(kpis, "sla.resolution") == 0.9
    # A report issued before the figure existed has no value for it, and no error.
    assert kpi_value(kpis, "chat_abandon_rate") is None
    assert kpi_value(kpis, "first_response.within_target") is None


def test_every_contract_kpi_has_a_chinese_name_and_an_english_term() -> None:
    names = {key: display.kpi_name(key) for key in KPI_KEYS}
    assert str(names["csat"]) == "客户满意度 CSAT"
    assert str(names["fcr"]) == "一次解决率 FCR"
    assert str(names["aht_call"]) == "通话平均处理时长 AHT (call)"
    assert str(names["sla.acknowledge"]) == "确认登记 acknowledge"
    for key, name in names.items():
        assert name.short and re.search(r"[\u4e00-\u9fff]", str(name.name)), key


def test_action_statuses_read_in_chinese() -> None:
    assert [display.action_status(s) for s in ("planned", "doing", "done")] == [
        "计划中",
        "进行中",
        "已完成",
    ]
    assert display.action_status("paused") == "paused"


def test_english_pages_read_english_units() -> None:
    with translation.override("en"):
        assert display.duration(2685.6) == "44 min 46 s"
        assert display.duration(3720) == "1 h 2 min"
        assert str(display.kpi_name("csat")) == "Customer satisfaction CSAT"
        # An English name that already says the term does not repeat it.
        assert str(display.kpi_name("resolution_rate")) == "Resolution rate"
