"""Retention: when a contract's retention period has run out, the scheduled job anonymises
the client's personal data and leaves a certificate."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from kefu.conftest import Tenant, login, run_tasks
from kefu.contracts.models import Contract
from kefu.core import scheduler
from kefu.core.models import AuditAction, AuditEvent
from kefu.mail.models import InboundMail
from kefu.privacy.models import RetentionRun
from kefu.privacy.services import ANON_NAME, retention_run_due
from kefu.privacy.tests.test_dsr import _media, kpis, month_of_work
from kefu.surveys.models import Survey
from kefu.tickets import services as tickets
from kefu.tickets.models import Customer, Message

__all__ = ["_media"]  # MEDIA_ROOT in a temporary directory here too


def contract(t: Tenant, *, end: date, retention_days: int, auto_renew: bool = False) -> Contract:
    return Contract.objects.create(
        client=t.client,
        number=f"{t.client.code}-2025",
        title="客户服务外包合同",
        party_a=t.client.name,
        party_b="乙方客服中心",
        start_date=end - timedelta(days=365),
        end_date=end,
        auto_renew=auto_renew,
        monthly_fee=Decimal("100000"),
        retention_days=retention_days,
    )


@pytest.fixture
def ended(tenant_a: Tenant, tenant_b: Tenant) -> tuple[Tenant, Tenant]:
    """A's contract ended long ago (retention over); B's ended last week (still kept)."""
    today = timezone.localdate()
    contract(tenant_a, end=today - timedelta(days=100), retention_days=30)
    contract(tenant_b, end=today - timedelta(days=7), retention_days=180)
    month_of_work(tenant_a)
    month_of_work(tenant_b)
    # A ticket without a known customer: its text is anonymised too.
    tickets.ticket_create(
        client=tenant_a.client, subject="匿名来电", body="回电 13912345678", channel="phone"
    )
    # A mail kept in quarantine (no ticket): the raw message holds the sender's address.
    for t in (tenant_a, tenant_b):
        InboundMail.objects.create(
            client=t.client,
            source="file",
            raw="From: 王小明 <wang@example.cn>\r\n\r\n电话 13800138000".encode(),
            dedup_key=f"q-{t.client.code}",
            result="quarantined",
        )
    return tenant_a, tenant_b


def _personal_data(t: Tenant) -> list[str]:
    texts = list(Message.objects.filter(client=t.client).values_list("body_text", flat=True))
    texts += [c.name for c in Customer.objects.filter(client=t.client)]
    texts += list(Survey.objects.filter(client=t.client).values_list("comment", flat=True))
    texts += [
        bytes(raw).decode()
        for raw in InboundMail.objects.filter(client=t.client).values_list("raw", flat=True)
    ]
    joined = " ".join(texts)
    return [p for p in ("王小明", "13800138000", "13912345678", "wang@") if p in joined]


def test_dry_run_shows_what_would_go_and_changes_nothing(ended: tuple[Tenant, Tenant]) -> None:
    a, b = ended
    events = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("privacy", "retention", "--dry-run", stdout=out)
    text = out.getvalue()
    due = timezone.localdate() - timedelta(days=100) + timedelta(days=31)
    assert "ACME: contract ACME-2025" in text and f"due {due:%Y-%m-%d}: due" in text
    assert "would anonymise" in text and "customer 1" in text and "attachment 1" in text
    assert "BETA: contract BETA-2025" in text and ": kept" in text
    assert _personal_data(a) and _personal_data(b)
    assert not RetentionRun.objects.exists()
    assert AuditEvent.objects.count() == events


def test_contract_past_retention_is_anonymised_the_other_kept(
    ended: tuple[Tenant, Tenant], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    a, b = ended
    before_a, before_b = kpis(a), kpis(b)
    with django_capture_on_commit_callbacks(execute=True):
        assert "privacy.retention" in scheduler.tick()
        run_tasks("job_run")

    assert _personal_data(a) == []
    assert Customer.objects.get(pk=a.customer.pk).name == ANON_NAME
    assert kpis(a) == before_a  # past months' figures stay exactly as they were
    assert _personal_data(b) == ["王小明", "13800138000", "wang@"]
    assert kpis(b) == before_b

    run = RetentionRun.objects.get()
    assert run.client == a.client and run.is_finished
    assert run.counts["customer"] == 1 and run.counts["attachment"] == 1
    assert run.counts["message"] >= 3 and run.counts["survey"] == 1
    lines = sorted(f"{r.kind}:{r.record_id}" for r in run.records.all())
    lines.sort(key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    expected = hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()
    assert run.certificate_sha256 == expected
    assert "ACME-2025" in run.certificate and "retention_days" in run.certificate
    assert expected in run.certificate
    event = AuditEvent.objects.get(action=AuditAction.ANONYMISE)
    assert event.client_id == a.client.pk and event.actor is None
    assert event.data["sha256"] == expected


def test_second_run_is_a_no_op(ended: tuple[Tenant, Tenant]) -> None:
    retention_run_due()
    run = RetentionRun.objects.get()
    events = AuditEvent.objects.count()
    assert retention_run_due() == []
    out = io.StringIO()
    call_command("privacy", "retention", "--client", "ACME", stdout=out)
    assert ": done" in out.getvalue()
    assert RetentionRun.objects.get() == run and AuditEvent.objects.count() == events
    assert RetentionRun.objects.get().certificate_sha256 == run.certificate_sha256


def test_scheduler_works_in_small_steps_and_resumes(ended: tuple[Tenant, Tenant]) -> None:
    a, _b = ended
    for _ in range(2):
        customer = tickets.customer_create(
            client=a.client, data=tickets.CustomerData(name="李四", phone="13700001111")
        )
        tickets.ticket_create(
            client=a.client, subject="问题", body="李四来电", channel="chat", customer=customer
        )
    now = timezone.now()
    [run] = retention_run_due(now=now, max_batches=1)
    assert not run.is_finished
    for _ in range(10):
        if not retention_run_due(now=now, max_batches=1):
            break
    run.refresh_from_db()
    assert run.is_finished
    assert run.counts["customer"] == 3
    assert {c.name for c in Customer.objects.filter(client=a.client)} == {ANON_NAME}


def test_auto_renewing_contract_never_falls_due(tenant_a: Tenant) -> None:
    contract(tenant_a, end=date(2024, 12, 31), retention_days=0, auto_renew=True)
    assert retention_run_due() == []
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == "王小明"


def test_certificate_page_for_the_clients_auditor(ended: tuple[Tenant, Tenant]) -> None:
    a, b = ended
    retention_run_due()
    run = RetentionRun.objects.get()
    page = login(a.auditor).get(f"/privacy/retention/{run.pk}/").content.decode()
    assert "数据处理证明" in page and run.certificate_sha256 in page
    assert login(b.auditor).get(f"/privacy/retention/{run.pk}/").status_code == 404
    listing = login(a.auditor).get("/privacy/retention/").content.decode()
    assert f"/privacy/retention/{run.pk}/" in listing
