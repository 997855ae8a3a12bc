"""An issued report downloads under kefu's own name for it, with the extension of its
format; nothing from the URL reaches ``Content-Disposition``."""

from __future__ import annotations

import pytest

from kefu.conftest import Tenant, login
from kefu.reports import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def report_pk(tenant_a: Tenant) -> int:
    report = services.report_issue(
        client=tenant_a.client, month_label="2026-10", actor=tenant_a.supervisor, plan=""
    )
    return int(report.pk)


@pytest.mark.parametrize(
    ("kind", "mime"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
    ],
)
def test_download_is_named_by_kefu_after_the_report(
    tenant_a: Tenant, report_pk: int, kind: str, mime: str
) -> None:
    response = login(tenant_a.supervisor).get(f"/reports/issued/{report_pk}/file.{kind}")
    assert response.status_code == 200
    assert response["Content-Type"] == mime
    assert response["Content-Disposition"] == f'attachment; filename="ACME-2026-10-v1.{kind}"'
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"PK" if kind == "xlsx" else b"%PDF")


@pytest.mark.parametrize(
    "tail",
    [
        'x"; filename="evil.html',
        "x%22;%20filename=%22evil.html",
        "html",
        "xlsx.html",
        "XLSX",
        "",
    ],
)
def test_other_extensions_are_404_and_never_echoed(
    tenant_a: Tenant, report_pk: int, tail: str
) -> None:
    response = login(tenant_a.supervisor).get(f"/reports/issued/{report_pk}/file.{tail}")
    assert response.status_code == 404
    assert "evil" not in response.get("Content-Disposition", "")
