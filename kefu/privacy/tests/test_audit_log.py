"""The audit-log page and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.models import User
from kefu.conftest import Tenant, login
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_auditor_reads_own_clients_log_only(
    tenant_a: Tenant, tenant_b: Tenant, admin_user: User
) -> None:
    audit_record(
        actor=tenant_a.agent, action=AuditAction.REVEAL, obj=tenant_a.customer, reason="回拨A"
    )
    audit_record(
        actor=tenant_b.agent, action=AuditAction.REVEAL, obj=tenant_b.customer, reason="回拨B"
    )
    audit_record(actor=admin_user, action=AuditAction.KEY_ROTATE, reason="年度轮换")

    page = login(tenant_a.auditor).get("/privacy/audit/").content.decode()
    assert "回拨A" in page and "acme_agent" in page
    assert "回拨B" not in page and "年度轮换" not in page

    page = login(tenant_a.supervisor).get("/privacy/audit/").content.decode()
    assert "回拨A" in page and "回拨B" not in page

    page = login(admin_user).get("/privacy/audit/").content.decode()
    assert all(word in page for word in ("回拨A", "回拨B", "年度轮换"))


@pytest.mark.parametrize("role", ["agent", "department_user"])
def test_agents_and_departments_have_no_audit_log(tenant_a: Tenant, role: str) -> None:
    http = login(getattr(tenant_a, role))
    assert http.get("/privacy/audit/").status_code == 403
    assert http.get("/privacy/audit/export.csv").status_code == 403
    assert http.get("/privacy/retention/").status_code == 403


def test_filters_and_csv_export(tenant_a: Tenant, tenant_b: Tenant, admin_user: User) -> None:
    audit_record(actor=tenant_a.agent, action=AuditAction.REVEAL, obj=tenant_a.customer)
    audit_record(actor=tenant_a.agent, action=AuditAction.EXPORT, obj=tenant_a.customer)
    audit_record(actor=tenant_b.agent, action=AuditAction.REVEAL, obj=tenant_b.customer)
    http = login(admin_user)

    rows = _csv(http.get("/privacy/audit/export.csv?client=ACME&action=reveal"))
    assert rows[0][:4] == ["时间", "操作人", "甲方", "操作"]
    assert len(rows) == 1 + 1
    assert {r[1] for r in rows[1:]} == {"acme_agent"}
    assert {r[3] for r in rows[1:]} == {"查看明文"}

    rows = _csv(http.get("/privacy/audit/export.csv?actor=beta_agent"))
    assert [r[2] for r in rows[1:]] == ["BETA"]

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert len(_csv(http.get(f"/privacy/audit/export.csv?since={today}"))) == 1 + 3
    assert len(_csv(http.get("/privacy/audit/export.csv?until=2020-01-01"))) == 1

    # The auditor's export is scoped like the page, whatever the filter asks for.
    rows = _csv(login(tenant_a.auditor).get("/privacy/audit/export.csv?client=BETA"))
    assert rows[1:] == []


def test_keyset_pages(tenant_a: Tenant) -> None:
    for i in range(105):
        audit_record(
            actor=tenant_a.agent, action=AuditAction.REVEAL, obj=tenant_a.customer, reason=f"r{i}"
        )
    http = login(tenant_a.auditor)
    first = http.get("/privacy/audit/?action=reveal")
    body = first.content.decode()
    assert "r104<" in body and "r4<" not in body
    next_url = first.context["next_url"]
    assert next_url and "action=reveal" in next_url
    second = http.get("/privacy/audit/" + next_url).content.decode()
    assert "r4<" in second and "r0<" in second and "r104<" not in second
    assert http.get("/privacy/audit/" + next_url).context["next_url"] == ""
