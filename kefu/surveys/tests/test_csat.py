"""CSAT and the response rate from kefu's own surveys, per channel, on a hand-computed set
from every channel; surveys not sent count nowhere, and each figure leads to its surveys."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from kefu.conftest import Tenant, login
from kefu.reports.periods import month
from kefu.reports.selectors import survey_kpis
from kefu.reports.services import render_html, render_xlsx, report_build
from kefu.surveys.models import Survey, SurveyStatus
from kefu.surveys.tests.conftest import sh

# (channel, score or None for unanswered), all sent in March 2026.
SENT = [
    ("email", 5), ("email", 4), ("email", 2), ("email", None),  # 2 of 3 satisfied; 3 of 4
    ("sms", 3), ("sms", None), ("sms", None),                   # 0 of 1; 1 of 3
    ("chat", 5), ("chat", 5), ("chat", 1),                      # 2 of 3; 3 of 3
    ("portal", 4), ("portal", None),                            # 1 of 1; 1 of 2
    ("phone", 4), ("phone", 5), ("phone", None),                # 2 of 2; 2 of 3
]  # fmt: skip


def _make(t: Tenant) -> None:
    start = sh(2026, 3, 2, 10)
    for i, (channel, score) in enumerate(SENT):
        sent = start + timedelta(hours=i)
        Survey.objects.create(
            client=t.client,
            ticket=t.ticket,
            channel=channel,
            status=SurveyStatus.SENT,
            sent_at=sent,
            answered_at=sent + timedelta(minutes=5) if score else None,
            score=score,
        )
    # Not in March's figures: one queued, one that failed, one sent in April.
    Survey.objects.create(client=t.client, channel="email", status=SurveyStatus.QUEUED)
    Survey.objects.create(client=t.client, channel="sms", status=SurveyStatus.FAILED)
    Survey.objects.create(client=t.client, channel="email", sent_at=sh(2026, 4, 1, 0, 0), score=1,
                          answered_at=sh(2026, 4, 1, 1))  # fmt: skip


def test_csat_and_response_rate_per_channel(tenant_a: Tenant) -> None:
    _make(tenant_a)
    figures = survey_kpis(tenant_a.client, month("2026-03", "Asia/Shanghai"))
    # Overall: 15 sent, 3 + 1 + 3 + 1 + 2 = 10 answered, 2 + 0 + 2 + 1 + 2 = 7 of them 4 or 5.
    assert figures["volume"] == {"surveys_sent": 15, "surveys_answered": 10}
    assert figures["kpis"]["csat"] == {"value": 0.7, "numerator": 7, "denominator": 10}
    assert figures["kpis"]["survey_response_rate"]["value"] == 10 / 15
    by = figures["by_channel"]
    expected = {
        "email": (2, 3, 3, 4),
        "sms": (0, 1, 1, 3),
        "chat": (2, 3, 3, 3),
        "portal": (1, 1, 1, 2),
        "phone": (2, 2, 2, 3),
    }
    assert set(by) == set(expected)
    for channel, (satisfied, answered, answered_again, sent) in expected.items():
        row = by[channel]
        assert (row["csat"]["numerator"], row["csat"]["denominator"]) == (satisfied, answered)
        assert (row["survey_response_rate"]["numerator"], row["surveys_sent"]) == (
            answered_again,
            sent,
        )
    assert by["sms"]["csat"]["value"] == 0.0
    assert by["portal"]["survey_response_rate"]["value"] == 0.5


def test_the_report_and_dashboard_show_them_and_lead_to_the_surveys(tenant_a: Tenant) -> None:
    _make(tenant_a)
    data = report_build(tenant_a.client, "2026-03")
    assert data["surveys_by_channel"]["phone"]["surveys_sent"] == 3  # the JSON
    html = render_html(data)  # the PDF is drawn from this HTML
    assert 'id="survey-channels"' in html and 'data-channel="sms"' in html
    sheet = load_workbook(io.BytesIO(render_xlsx(data)))["满意度 Surveys"]
    lines = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert lines["email"][2:6] == (4, 3, 2, 2 / 3)
    web = login(tenant_a.supervisor)
    page = web.get("/reports/monthly/ACME/2026-03/").content.decode()
    assert "/reports/surveys/ACME/2026-03/?channel=email" in page
    rows = web.get("/reports/surveys/ACME/2026-03/?channel=sms").content.decode()
    assert "(3)" in rows  # the 3 SMS surveys sent in March, no failed one
    answered = web.get("/reports/surveys/ACME/2026-03/?channel=email&answered=1")
    assert "(3)" in answered.content.decode()
