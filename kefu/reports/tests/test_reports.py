from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import load_workbook
from pypdf import PdfReader

from kefu.conftest import Tenant, login
from kefu.reports import services
from kefu.reports.models import ServiceReport
from kefu.tickets.models import Ticket

FIXTURE = Path(__file__).parent / "fixtures" / "history.jsonl"


@pytest.fixture
def imported(tenant_a: Tenant) -> Tenant:
    call_command("import", "--client", "ACME", str(FIXTURE), stdout=io.StringIO())
    return tenant_a


def test_issued_report_is_frozen_and_reissue_makes_a_version(imported: Tenant) -> None:
    first = services.report_issue(
        client=imported.client,
        month_label="2026-10",
        actor=imported.supervisor,
        plan="加强夜间排班",
    )
    assert first.version == 1 and first.data["volume"]["tickets"] == 7
    # A late ticket for October changes the live figures, not the issued snapshot.
    from kefu.tickets import services as tickets

    t = tickets.ticket_create(client=imported.client, subject="补录", body="x", channel="phone")
    Ticket.objects.filter(pk=t.pk).update(created_at="2026-10-15T10:00:00+08:00")
    first.refresh_from_db()
    assert first.data["volume"]["tickets"] == 7
    second = services.report_issue(
        client=imported.client, month_label="2026-10", actor=imported.supervisor
    )
    assert second.version == 2 and second.data["volume"]["tickets"] == 8
    with pytest.raises(PermissionDenied):
        services.report_issue(client=imported.client, month_label="2026-10", actor=imported.agent)


def test_auditor_signs_off_in_the_ui(imported: Tenant) -> None:
    report = services.report_issue(client=imported.client, month_label="2026-10", actor=None)
    sup = login(imported.supervisor)
    assert sup.post(f"/reports/issued/{report.pk}/sign-off/").status_code == 403
    assert ServiceReport.objects.get(pk=report.pk).signed_off_at is None
    http = login(imported.auditor)
    page = http.get(f"/reports/issued/{report.pk}/").content.decode()
    assert "sign-off-form" in page and "一次解决率" in page and "<code>fcr</code>" not in page
    http.post(f"/reports/issued/{report.pk}/sign-off/")  # without ticking "checked": refused
    assert ServiceReport.objects.get(pk=report.pk).signed_off_at is None
    http.post(f"/reports/issued/{report.pk}/sign-off/", {"checked": "yes", "comment": "无误"})
    report.refresh_from_db()
    assert report.signed_off_by == imported.auditor and report.signed_off_at is not None
    assert "sign-off-form" not in http.get(f"/reports/issued/{report.pk}/").content.decode()


def test_pdf_shows_chinese_headings_and_xlsx_holds_the_figures(imported: Tenant) -> None:
    data = services.report_build(imported.client, "2026-10")
    pdf = services.render_pdf(data, plan="下月重点：缩短电话等待")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for heading in (
        "月度服务报告",
        "服务量",
        "绩效指标",
        "合同考核",
        "热点问题与投诉",
        "下月工作计划",
        "缩短电话等待",
    ):
        assert heading in text, heading
    book = load_workbook(io.BytesIO(services.render_xlsx(data)))
    # Name, key, value, unit, as it reads, numerator, denominator.
    rows = {r[1]: r for r in book["绩效指标 KPI"].iter_rows(values_only=True)}
    assert rows["fcr"] == ("一次解决率 FCR", "fcr", 0.5, "%", "50.0%", 3, 6)
    assert rows["service_level"][2:] == (0.5, "%", "50.0%", 2, 4)
    assert rows["csat"][5:] == (2, 3)
    assert rows["aht_call"][:5] == (
        "通话平均处理时长 AHT (call)",
        "aht_call",
        440,
        "秒",
        "7 分 20 秒",
    )
    assert rows["first_response.within_target"][0] == "首次响应达标率 first response within target"
    sla = {r[1]: r for r in book["时效达成率 SLA"].iter_rows(values_only=True)}
    assert sla["sla.acknowledge"][0] == "确认登记 acknowledge"
    volume = {r[1]: r for r in book["服务量 Volume"].iter_rows(values_only=True)}
    assert volume["by_channel.chat"] == ("按渠道：在线客服", "by_channel.chat", 2)


def _contract_with_goal(t: Tenant) -> None:
    """A contract whose targets the fixture month misses and meets, with an improvement goal
    whose actions are done and under way."""
    from kefu.contracts.models import Contract, ImprovementGoal, KpiTarget

    contract = Contract.objects.create(
        client=t.client,
        number="C-1",
        title="测试合同",
        party_a="甲",
        party_b="乙",
        start_date="2026-01-01",
        end_date="2026-12-31",
        monthly_fee=100000,
    )
    for i, (key, label, cmp, target, credit) in enumerate(
        [
            ("fcr", "一次解决率", ">=", 0.75, 2),  # 50.0 %: missed, 2,000.00 元
            ("asa", "平均应答速度（秒）", "<=", 20, 1),  # 18.3 s: met
            ("aht_call", "电话平均处理时长（秒）", "<=", 420, 1),  # 7 min 20 s: missed
        ]
    ):
        KpiTarget.objects.create(
            contract=contract,
            kpi=key,
            label=label,
            comparison=cmp,
            target=target,
            credit_percent=credit,
            order=i,
        )
    ImprovementGoal.objects.create(
        contract=contract,
        kpi="csat",
        baseline=0.5,
        target=0.6,
        due="2026-12-31",
        actions=[
            {
                "description": "每周抽检录音",
                "owner": "周主管",
                "due": "2026-09-30",
                "status": "done",
            },
            {"description": "完善知识库", "owner": "吴主管", "due": None, "status": "doing"},
        ],
    )


def test_report_reads_in_words_a_client_uses(imported: Tenant) -> None:
    """KPI names in Chinese, ratios as percentages, durations in minutes and seconds,
    targets with ≥/≤, action statuses in Chinese: in the HTML, the PDF and the workbook."""
    _contract_with_goal(imported)
    data = services.report_build(imported.client, "2026-10")
    html = services.render_html(data)
    for text in (
        "客户满意度",  # csat
        "CSAT",
        "66.7%",  # csat: 2 of 3 answered surveys
        "一次解决率",
        "50.0%",  # fcr
        "7 分 20 秒",  # aht_call: 1,320 s over 3 answered calls
        "18.3 秒",  # asa: 55 s over 3
        "34 分",  # aht_chat: (480 + 3,600) s over 2 chats
        "确认登记",  # sla.acknowledge
        "≥ 75%",
        "≤ 420 秒（7 分）",
        "未达标",
        "2,000.00 元",
        "2026-10-01 至 2026-10-31",
        "已完成",
        "进行中",
        "已达到目标",  # csat 66.7 % against a goal of 60 %
    ):
        assert text in html, text
    for raw in ("<code>", "sla.acknowledge", "aht_call", "&gt;=", "0.667", " s ", "done"):
        assert raw not in html, raw
    # The JSON keeps its keys, fractions and exact seconds.
    assert data["kpis"]["aht_call"]["value"] == 440
    assert data["contract"]["targets"][0]["comparison"] == ">="
    assert data["improvement_goals"][0]["actions"][0]["status"] == "done"
    pdf = services.render_pdf(data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for words in ("客户满意度", "一次解决率", "通话平均处理时长", "合同考核", "已完成"):
        assert words in text, words
    book = load_workbook(io.BytesIO(services.render_xlsx(data)))
    contract = {r[1]: r for r in book["合同考核 Contract"].iter_rows(values_only=True)}
    assert contract["fcr"][:6] == ("一次解决率", "fcr", 0.5, "50.0%", "≥ 75%", "未达标")
    goals = list(book["改进目标 Goals"].iter_rows(values_only=True))
    assert [g[-1] for g in goals[1:]] == ["已完成", "进行中"]


def test_hot_keywords_leave_out_question_words(imported: Tenant) -> None:
    from kefu.tickets import services as tickets

    for subject in ("热水器温度怎么调", "空调保修期多久", "物业费缴费方式", "快递柜收费问题"):
        t = tickets.ticket_create(client=imported.client, subject=subject, body="x", channel="chat")
        Ticket.objects.filter(pk=t.pk).update(created_at="2026-10-15T10:00:00+08:00")
    words = {
        w["word"]
        for w in services.report_build(imported.client, "2026-10")["top_issues"]["keywords"]
    }
    assert {"热水器", "保修期", "物业费", "快递"} <= words
    assert not words & {"怎么", "多久", "方式", "问题"}


def test_report_pages_link_figures_to_tickets(imported: Tenant) -> None:
    http = login(imported.supervisor)
    page = http.get("/reports/monthly/ACME/2026-10/").content.decode()
    assert "resolved=2026-10" in page and "period=2026-10" in page
    queue = http.get("/tickets/?client=ACME&status=&period=2026-10")
    assert len(queue.context["tickets"]) == 7
    resolved = http.get("/tickets/?client=ACME&status=&resolved=2026-10")
    assert len(resolved.context["tickets"]) == 6
    dashboard = http.get("/reports/dashboard/ACME/")
    assert dashboard.status_code == 200
    assert "一次解决率" in dashboard.content.decode()
    assert "<code>fcr</code>" not in dashboard.content.decode()
    assert login(imported.agent).get("/reports/").status_code == 403
    pdf = http.post("/reports/monthly/ACME/2026-10/issue/", {"plan": "x"})
    assert pdf.status_code == 302
    report = ServiceReport.objects.get(client=imported.client)
    f = http.get(f"/reports/issued/{report.pk}/file.xlsx")
    assert f.status_code == 200 and f["Content-Type"].startswith("application/vnd.openxml")


def test_reports_issue_themselves_on_the_first_at_eight(imported: Tenant) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kefu.contracts.models import Contract

    Contract.objects.create(
        client=imported.client,
        number="C-1",
        title="测试合同",
        party_a="甲",
        party_b="乙",
        start_date="2026-01-01",
        end_date="2026-12-31",
        monthly_fee=100000,
        report_recipients=["boss@client.example"],
    )
    sh = ZoneInfo("Asia/Shanghai")
    assert services.report_issue_due(now=datetime(2026, 11, 1, 7, 59, tzinfo=sh)) == []
    issued = services.report_issue_due(now=datetime(2026, 11, 1, 8, 0, tzinfo=sh))
    assert [(r.period, r.version) for r in issued] == [("2026-10", 1)]
    assert services.report_issue_due(now=datetime(2026, 11, 1, 9, 0, tzinfo=sh)) == []
    from django.core import mail

    from kefu.reports.tasks import report_mail

    assert report_mail.call(issued[0].pk) == 1
    assert mail.outbox[-1].to == ["boss@client.example"]
    assert {a[0].rsplit(".", 1)[1] for a in mail.outbox[-1].attachments} == {"pdf", "xlsx"}


def test_command_line_formats(imported: Tenant, tmp_path: Path) -> None:
    import json

    from django.core.management import CommandError

    for fmt in ("pdf", "xlsx", "html"):
        target = tmp_path / f"r.{fmt}"
        call_command(
            "report",
            "monthly",
            "--client",
            "ACME",
            "--month",
            "2026-10",
            "--format",
            fmt,
            "--out",
            str(target),
            stderr=io.StringIO(),
        )
        assert target.stat().st_size > 500
    assert target.read_text(encoding="utf-8").count("<section>") == 6
    out = io.StringIO()
    call_command("report", "monthly", "--client", "ACME", "--month", "2026-10", stdout=out)
    assert json.loads(out.getvalue())["kpis"]["csat"]["denominator"] == 3
    with pytest.raises(CommandError, match="needs --out"):
        call_command(
            "report", "monthly", "--client", "ACME", "--month", "2026-10", "--format", "pdf"
        )
    with pytest.raises(CommandError, match="not a month"):
        call_command("report", "monthly", "--client", "ACME", "--month", "2026-13")
    out = io.StringIO()
    call_command("report", "issue", "--client", "ACME", "--month", "2026-10", stdout=out)
    assert "v1" in out.getvalue()


def test_call_and_survey_figures_drill_down(imported: Tenant, tenant_b: Tenant) -> None:
    http = login(imported.auditor)
    page = http.get("/reports/calls/ACME/2026-10/?answered=0")
    assert page.context["count"] == 2  # the two abandoned calls of October
    assert page.context["count"] == json_figure(imported, "abandon_rate")["numerator"]
    surveys = http.get("/reports/surveys/ACME/2026-10/?answered=1")
    assert surveys.context["count"] == json_figure(imported, "csat")["denominator"]
    assert http.get("/reports/calls/BETA/2026-10/").status_code == 404


def json_figure(t: Tenant, key: str) -> dict:
    from kefu.reports.periods import month
    from kefu.reports.selectors import client_kpis

    figure: dict = client_kpis(t.client, month("2026-10", "Asia/Shanghai"))["kpis"][key]
    return figure


def test_quarterly_pack_uses_issued_versions(imported: Tenant, tmp_path: Path) -> None:
    import json

    from pypdf import PdfReader

    services.report_issue(client=imported.client, month_label="2026-09", actor=None)
    data = services.quarter_build(imported.client, "2026-Q4")
    assert [m["month"] for m in data["months"]] == ["2026-10", "2026-11", "2026-12"]
    q3 = services.quarter_build(imported.client, "2026-q3")
    assert [m["source"] for m in q3["months"]] == ["live", "live", "v1"]
    assert q3["tickets"] == 1  # T6 was created in September
    # The JSON's trend carries each month's value, as the monthly JSON has it.
    trend = {row["key"]: row["values"] for row in data["trend"]}
    october = data["months"][0]["data"]["kpis"]
    assert trend["csat"][0] == october["csat"]["value"] == pytest.approx(2 / 3)
    assert (
        trend["first_response.within_target"][0]
        == october["first_response"]["within_target"]["value"]
    )
    assert trend["csat"][2] is None  # December: no surveys
    out = tmp_path / "q.pdf"
    call_command(
        "report",
        "quarterly",
        "--client",
        "ACME",
        "--quarter",
        "2026-Q4",
        "--format",
        "pdf",
        "--out",
        str(out),
        stderr=io.StringIO(),
    )
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "季度服务质量回顾" in text and "2026-10" in text
    # October's figures, named and formatted as in the monthly report.
    assert "客户满意度" in text and "66.7%" in text and "7 分 20 秒" in text
    raw = io.StringIO()
    call_command("report", "quarterly", "--client", "ACME", "--quarter", "2026-Q4", stdout=raw)
    assert json.loads(raw.getvalue())["quarter"] == "2026-Q4"
