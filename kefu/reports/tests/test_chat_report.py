"""The live chat figures where a client reads them: the monthly report (HTML, PDF, Excel)
and the dashboard, on the hand-computed chats of kefu/chat/tests/test_kpi.py."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from kefu.chat.tests.test_kpi import october_chats  # noqa: F401 (fixture)
from kefu.conftest import Tenant, login
from kefu.contracts.models import Contract, KpiTarget
from kefu.reports import services
from kefu.sla.tests.conftest import frozen, sh, sla_tenant  # noqa: F401 (fixture)


def _contract(t: Tenant) -> None:
    contract = Contract.objects.create(
        client=t.client,
        number="C-CHAT",
        title="在线客服合同",
        party_a="甲",
        party_b="乙",
        start_date="2026-01-01",
        end_date="2026-12-31",
        monthly_fee=100000,
    )
    for i, (key, label, cmp, target) in enumerate(
        [
            ("asa_chat", "在线应答速度", "<=", 30),  # 46.7 s: missed
            ("chat_abandon_rate", "在线放弃率", "<=", 0.05),  # 40 %: missed
            ("chat_first_response.within_target", "在线首响达标率", ">=", 0.6),  # 66.7 %: met
        ]
    ):
        KpiTarget.objects.create(
            contract=contract, kpi=key, label=label, comparison=cmp, target=target, order=i
        )


def test_monthly_report_shows_the_chat_figures(october_chats: Tenant) -> None:  # noqa: F811
    _contract(october_chats)
    data = services.report_build(october_chats.client, "2026-10")
    html = services.render_html(data)
    for text in (
        "在线客服",
        "在线放弃率",
        "40.0%",  # 2 of (6 − 1)
        "在线平均排队时长",
        "23.5 秒",
        "在线平均应答速度",
        "46.7 秒",  # 140 s over 3
        "2 分 20 秒",  # its numerator, the total wait
        "在线首次响应时长（中位数）",
        "40.0 秒",
        "在线首次响应达标率",
        "≤ 1 分钟",  # the chat target it is counted against, as the SLA screens say it
        "66.7%",
        "人均应答会话数",
        "1.5",
        "李娜",
        "1 分 5 秒",  # 李娜's mean first response: (40 + 90) / 2
        "排队超过 5 秒",  # the abandonment rule, stated under the table
    ):
        assert text in html, text
    # The contract's verdicts: the chat ASA and abandon rate missed, the share met.
    rows = re.findall(r'<tr class="(pass|fail)"><td>([^<]+)</td>', html)
    assert ("fail", "在线应答速度") in rows and ("fail", "在线放弃率") in rows
    assert ("pass", "在线首响达标率") in rows

    pdf = services.render_pdf(data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for words in ("在线平均应答速度", "在线放弃率", "人均应答会话数", "李娜", "王芳"):
        assert words in text, words

    book = load_workbook(io.BytesIO(services.render_xlsx(data)))
    kpis = {r[1]: r for r in book["绩效指标 KPI"].iter_rows(values_only=True)}
    # Excel keeps 15 significant digits.
    assert kpis["asa_chat"][2:] == (pytest.approx(140 / 3), "秒", "46.7 秒", 140, 3)
    assert kpis["chat_abandon_rate"][2:] == (0.4, "%", "40.0%", 2, 5)
    assert kpis["chats_per_agent"][2:] == (1.5, "个", "1.5", 3, 2)
    assert kpis["chat_first_response.within_target"][2:5] == (pytest.approx(2 / 3), "%", "66.7%")
    assert kpis["chat_first_response.target_s"][2] == 60
    agents = list(book["坐席应答 Chats per agent"].iter_rows(values_only=True))
    assert agents[1:] == [("李娜", 2, 65, 130), ("王芳", 1, 10, 10)]
    contract = {r[1]: r for r in book["合同考核 Contract"].iter_rows(values_only=True)}
    assert contract["asa_chat"][2:6] == (pytest.approx(140 / 3), "46.7 秒", "≤ 30 秒", "未达标")


def test_a_report_issued_before_live_chat_still_renders(october_chats: Tenant) -> None:  # noqa: F811
    data = services.report_build(october_chats.client, "2026-10")
    for key in ("asa_chat", "chat_queue_wait", "chat_first_response", "chat_abandon_rate"):
        del data["kpis"][key]
    del data["kpis"]["chats_per_agent"], data["chat_agents"]
    html = services.render_html(data)
    assert "在线平均处理时长" in html  # aht_chat, from the chat tickets
    assert "在线平均应答速度" not in html and "人均应答会话数" not in html
    services.render_xlsx(data)


def test_dashboard_shows_chat_figures_against_the_contract(october_chats: Tenant) -> None:  # noqa: F811
    _contract(october_chats)
    with frozen(sh(2026, 10, 20, 16, 0)):
        page = login(october_chats.supervisor).get("/reports/dashboard/ACME/").content.decode()
    # Columns: today (20 October: chat H only), October, September.
    row = re.search(r"<tr><td>在线平均应答速度.*?</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="(\w*)">([^<]+)', row.group(0))
    assert [(cls, text.strip()) for cls, text in cells] == [
        ("fail", "1 分 30 秒"),
        ("fail", "46.7 秒"),
        ("", "—"),
    ]
    share = re.search(r"<tr><td>在线首次响应达标率.*?</tr>", page, re.S)
    assert share is not None and "≤ 1 分钟" in share.group(0)
    agents = re.search(r'<table [^>]*id="chat-agents">.*?</table>', page, re.S)
    assert agents is not None
    lines = [re.findall(r"<td>([^<]*)</td>", tr) for tr in re.findall(r"<tr>.*?</tr>", agents[0])]
    assert [line for line in lines if line] == [["李娜", "1", "2", "—"], ["王芳", "—", "1", "—"]]
