"""The client's review of an issued report: sign-off with a comment, dispute with a reason
the provider answers, only on the current version, each step in the audit log and on the
PDF."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from kefu.conftest import Tenant, login
from kefu.core.models import AuditEvent
from kefu.reports import review, services
from kefu.reports.models import ReviewKind, ServiceReport

pytestmark = pytest.mark.django_db


def _issue(t: Tenant) -> ServiceReport:
    return services.report_issue(client=t.client, month_label="2026-10", actor=t.supervisor)


def test_sign_off_keeps_the_comment_and_is_audited(tenant_a: Tenant) -> None:
    report = _issue(tenant_a)
    review.report_sign_off(report=report, actor=tenant_a.auditor, comment="数据已核对，无异议")
    report.refresh_from_db()
    assert report.signed_off_by == tenant_a.auditor
    assert report.reviews.get().comment == "数据已核对，无异议"
    event = AuditEvent.objects.get(action="report.sign_off")
    assert event.object_id == str(report.pk) and event.reason == "数据已核对，无异议"
    with pytest.raises(ValidationError):
        review.report_sign_off(report=report, actor=tenant_a.auditor)


def test_only_the_current_version_can_be_reviewed(tenant_a: Tenant) -> None:
    first = _issue(tenant_a)
    second = _issue(tenant_a)
    with pytest.raises(ValidationError, match="v2"):
        review.report_sign_off(report=first, actor=tenant_a.auditor)
    with pytest.raises(ValidationError):
        review.report_dispute(report=first, actor=tenant_a.auditor, reason="数字不对")
    first.refresh_from_db()
    assert first.signed_off_at is None
    assert "已被 v2 取代" in review.report_stamp(first)
    review.report_sign_off(report=second, actor=tenant_a.auditor)
    page = login(tenant_a.auditor).get(f"/reports/issued/{first.pk}/").content.decode()
    assert "sign-off-form" not in page and "dispute-form" not in page
    assert f"/reports/issued/{second.pk}/" in page  # a way to the version that counts


def test_only_the_clients_auditor_reviews(tenant_a: Tenant, tenant_b: Tenant) -> None:
    report = _issue(tenant_a)
    for actor in (tenant_a.supervisor, tenant_a.agent, tenant_b.auditor):
        with pytest.raises(PermissionDenied):
            review.report_dispute(report=report, actor=actor, reason="x")


def test_dispute_needs_a_reason_and_is_answered_once(tenant_a: Tenant) -> None:
    report = _issue(tenant_a)
    with pytest.raises(ValidationError):
        review.report_dispute(report=report, actor=tenant_a.auditor, reason="   ")
    assert not report.reviews.exists()
    disputed = review.report_dispute(
        report=report, actor=tenant_a.auditor, reason="投诉量比我方台账多 2 件"
    )
    assert review.report_review_state(report).open_disputes == 1
    assert "异议" in review.report_stamp(report)
    with pytest.raises(PermissionDenied):
        review.report_dispute_answer(review=disputed, actor=tenant_a.auditor, answer="x")
    review.report_dispute_answer(
        review=disputed, actor=tenant_a.supervisor, answer="其中 2 件为重复来电，已在 v2 中合并"
    )
    with pytest.raises(ValidationError):
        review.report_dispute_answer(review=disputed, actor=tenant_a.supervisor, answer="again")
    assert review.report_review_state(report).open_disputes == 0
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"report.dispute", "report.dispute_reply"} <= actions
    # A disputed version can still be signed off once the answer settles it.
    review.report_sign_off(report=report, actor=tenant_a.auditor, comment="答复已接受")
    kinds = list(report.reviews.values_list("kind", flat=True))
    assert kinds == [ReviewKind.DISPUTE, ReviewKind.SIGN_OFF]


def test_dispute_and_answer_through_the_pages(tenant_a: Tenant) -> None:
    report = _issue(tenant_a)
    auditor = login(tenant_a.auditor)
    auditor.post(f"/reports/issued/{report.pk}/dispute/", {"reason": "满意度样本数不符"})
    disputed = report.reviews.get()
    supervisor = login(tenant_a.supervisor)
    page = supervisor.get(f"/reports/issued/{report.pk}/").content.decode()
    assert "满意度样本数不符" in page and "dispute-answer" in page
    supervisor.post(f"/reports/disputes/{disputed.pk}/answer/", {"answer": "按合同只计回访样本"})
    page = auditor.get(f"/reports/issued/{report.pk}/").content.decode()
    assert "按合同只计回访样本" in page and "sign-off-form" in page


def test_pdf_says_version_issue_time_and_review_state(tenant_a: Tenant) -> None:
    report = _issue(tenant_a)
    http = login(tenant_a.auditor)

    def pdf_text() -> str:
        body = b"".join(http.get(f"/reports/issued/{report.pk}/file.pdf").streaming_content)  # type: ignore[attr-defined]
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)

    text = pdf_text()
    assert "版本 v1" in text and "待甲方确认" in text
    issued = report.issued_at.astimezone(ZoneInfo(report.client.time_zone))
    assert issued.strftime("%Y-%m-%d %H:%M") in text
    review.report_sign_off(report=report, actor=tenant_a.auditor)
    text = pdf_text()
    assert "甲方已确认" in text and tenant_a.auditor.username in text
