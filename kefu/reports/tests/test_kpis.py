"""KPIs on a data set small enough to check by hand (fixtures/history.jsonl, October 2026,
Asia/Shanghai). The expected figures are worked out in the comments."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kefu.conftest import Tenant
from kefu.reports import kpi
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.tickets.models import Ticket

FIXTURE = Path(__file__).parent / "fixtures" / "history.jsonl"


@pytest.fixture
def imported(tenant_a: Tenant) -> Tenant:
    call_command("import", "--client", "ACME", str(FIXTURE), stdout=io.StringIO())
    return tenant_a


def _k(data: dict, key: str) -> tuple[object, object, object]:
    f = data["kpis"][key]
    return f["value"], f["numerator"], f["denominator"]


def test_october_figures(imported: Tenant) -> None:
    data = client_kpis(imported.client, month("2026-10", "Asia/Shanghai"))
    # Created in October: T1 T2 T3 T4 T5 T7 T8 (T6 is September's; the fixture ticket of
    # the tenant was created today, not in October).
    assert data["volume"]["tickets"] == 7
    assert data["volume"]["by_channel"] == {
        "chat": 2,
        "email": 1,
        "phone": 2,
        "portal": 1,
        "wechat": 1,
    }
    # T5 is resolved on 2 November: created in October, not resolved before it ended.
    assert _k(data, "resolution_rate") == (5 / 7, 5, 7)
    assert _k(data, "complaint_rate") == (1 / 7, 1, 7)
    # Resolved in October: T1 T2 T3 T4 T6 T8. First contact: T1 (one reply), T6 (one reply,
    # created in September), T8 (no reply but one answered call). T2 has two replies, T3 was
    # escalated, T4 reopened within 7 days.
    assert _k(data, "fcr") == (0.5, 3, 6)
    # Chat tickets resolved in October with a reply: T1 8 min, T3 60 min.
    assert _k(data, "aht_chat") == ((480 + 3600) / 2, 4080.0, 2)
    # Calls offered in October: C1..C5 (C6 was offered in September).
    # Handle = talk + hold + after-call work: C1 270+30+60, C2 600+0+120, C5 240.
    assert _k(data, "aht_call") == (1320 / 3, 1320, 3)
    assert _k(data, "asa") == (55 / 3, 55, 3)
    # Answered within 20 s: C1 (10 s), C5 (15 s); C3 abandoned within 5 s is left out.
    assert _k(data, "service_level") == (0.5, 2, 4)
    assert _k(data, "abandon_rate") == (0.4, 2, 5)
    # Surveys sent in October: S1 (5) S2 (3) S3 (no answer) S4 (4, answered in November).
    assert _k(data, "csat") == (2 / 3, 2, 3)
    assert _k(data, "survey_response_rate") == (0.75, 3, 4)
    # No SLA policy, no clocks: empty denominators are None, never 0 % or 100 %.
    assert _k(data, "sla.first_response") == (None, 0, 0)
    assert data["kpis"]["first_response"]["value"] is None


def test_empty_month_has_no_fake_percentages(imported: Tenant) -> None:
    data = client_kpis(imported.client, month("2026-08", "Asia/Shanghai"))
    for key in ("fcr", "csat", "asa", "service_level", "abandon_rate", "aht_chat"):
        assert data["kpis"][key]["value"] is None, key
        assert kpi.display(data["kpis"][key]) == "—"


def test_import_is_idempotent_and_builds_history(imported: Tenant) -> None:
    out = io.StringIO()
    call_command("import", "--client", "ACME", str(FIXTURE), stdout=out)
    assert "ticket: 0 created, 8 already imported" in out.getvalue()
    t4 = Ticket.objects.get(client=imported.client, external_id="T4")
    assert t4.status == "resolved" and t4.number.startswith("KF-2026-")
    assert list(t4.events.values_list("type", flat=True)) == [
        "created",
        "status",
        "reopened",
        "status",
    ]
    from kefu.accounts.models import User

    assert User.objects.get(username="zhao.min").is_active is False


def test_bad_line_names_line_and_field_and_writes_nothing(tenant_a: Tenant, tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken["channel"] = "fax"
    lines[2] = json.dumps(broken, ensure_ascii=False)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    before = Ticket.objects.count()
    with pytest.raises(CommandError, match=r"line 3: field channel"):
        call_command("import", "--client", "ACME", str(path), stdout=io.StringIO())
    assert Ticket.objects.count() == before
    path.write_text(lines[0].replace("+08:00", ""), encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 1: field created_at"):
        call_command("import", "--client", "ACME", str(path), stdout=io.StringIO())


def test_report_json_command(imported: Tenant) -> None:
    out = io.StringIO()
    call_command(
        "report",
        "monthly",
        "--client",
        "ACME",
        "--month",
        "2026-10",
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["kpis"]["fcr"] == {"value": 0.5, "numerator": 3, "denominator": 6}
    assert set(data["kpis"]) >= {
        "csat",
        "survey_response_rate",
        "fcr",
        "aht_call",
        "aht_chat",
        "asa",
        "service_level",
        "abandon_rate",
        "first_response",
        "resolution_rate",
        "complaint_rate",
        "sla.resolution",
    }


def test_contract_evaluation_and_service_credit(imported: Tenant) -> None:
    from kefu.contracts.models import Contract, KpiTarget

    contract = Contract.objects.create(
        client=imported.client,
        number="C-1",
        title="测试合同",
        party_a="甲",
        party_b="乙",
        start_date="2026-01-01",
        end_date="2026-12-31",
        monthly_fee=100000,
        credit_cap_percent=4,
        service_level_seconds=20,
    )
    for i, (key, cmp, target, credit) in enumerate(
        [
            ("fcr", ">=", 0.6, 2),  # 0.5: missed, 2 % = 2,000
            ("csat", ">=", 0.6, 3),  # 0.667: met
            ("asa", "<=", 15, 1.5),  # 18.3 s: missed, 1.5 % = 1,500
            ("abandon_rate", "<=", 0.3, 1),  # 0.4: missed, 1 % = 1,000 → 4,500, capped at 4,000
            ("sla.resolution", ">=", 0.9, 5),  # no clocks: no figure, no credit
        ]
    ):
        KpiTarget.objects.create(
            contract=contract,
            kpi=key,
            comparison=cmp,
            target=target,
            label=key,
            credit_percent=credit,
            order=i,
        )
    out = io.StringIO()
    call_command("report", "monthly", "--client", "ACME", "--month", "2026-10", stdout=out)
    data = json.loads(out.getvalue())["contract"]
    assert [r["passed"] for r in data["targets"]] == [False, True, False, False, None]
    assert [r["credit"] for r in data["targets"]] == [2000, 0, 1500, 1000, 0]
    assert data["credit_before_cap"] == 4500 and data["credit"] == 4000


def _call(n: int, wait: int, answered: bool) -> str:
    offered = f"2026-10-12T09:{n:02d}:00+08:00"
    at = f"2026-10-12T09:{n:02d}:{wait:02d}+08:00"
    end = f"2026-10-12T09:{n:02d}:59+08:00"
    return json.dumps(
        {
            "type": "call",
            "id": f"EDGE{n}",
            "offered_at": offered,
            "answered_at": at if answered else None,
            "ended_at": end if answered else at,
            "hold_s": 0,
            "acw_s": 0,
            "agent": None,
            "ticket": None,
        }
    )


def test_service_level_cut_offs_are_inclusive_at_exactly_20_s_and_5_s(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    # Answered after 19, 20 and 21 s; abandoned after 4, 5 and 6 s.
    calls = [_call(1, 19, True), _call(2, 20, True), _call(3, 21, True)]
    calls += [_call(4, 4, False), _call(5, 5, False), _call(6, 6, False)]
    path = tmp_path / "edges.jsonl"
    path.write_text("\n".join(calls) + "\n", encoding="utf-8")
    call_command("import", "--client", "ACME", str(path), stdout=io.StringIO())
    october = month("2026-10", "Asia/Shanghai")
    data = client_kpis(tenant_a.client, october)
    # Within T = 20 s: the 19 s and the 20 s call. Left out of the denominator: the calls
    # abandoned after 4 s and after exactly 5 s; the 6 s one counts against the target.
    assert _k(data, "service_level") == (0.5, 2, 4)
    assert _k(data, "abandon_rate") == (0.5, 3, 6)
    # The contract's own T moves only the numerator's cut-off.
    assert _k(client_kpis(tenant_a.client, october, service_level_s=21), "service_level") == (
        0.75,
        3,
        4,
    )
    assert _k(client_kpis(tenant_a.client, october, service_level_s=19), "service_level") == (
        0.25,
        1,
        4,
    )
