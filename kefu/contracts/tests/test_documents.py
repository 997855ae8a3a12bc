from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kefu.calendars.services import calendar_load
from kefu.conftest import Tenant
from kefu.contracts.documents import contract_dump, contract_load
from kefu.contracts.models import Client, Contract
from kefu.sla.models import SlaPolicy

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def calendars(db: None) -> None:
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["huaxin.yaml", "mingda.yaml"])
def test_example_contracts_load_and_round_trip(calendars: None, name: str) -> None:
    Client.objects.create(code="HUAXIN", name="华信智能家居", ticket_prefix="HX")
    Client.objects.create(code="MINGDA", name="明达物业服务", ticket_prefix="MD")
    contract = contract_load(text=(EXAMPLES / "contracts" / name).read_text(encoding="utf-8"))
    assert contract.kpi_targets.count() >= 6
    policy = SlaPolicy.objects.get(client=contract.client, active=True)
    assert policy.targets.count() >= 5
    first = contract_dump(contract)
    again = contract_load(text=first)
    assert again.pk == contract.pk
    assert contract_dump(again) == first
    assert Contract.objects.count() == 1


def test_errors_name_the_field_and_line(calendars: None, tenant_a: Tenant) -> None:
    text = (EXAMPLES / "contracts" / "huaxin.yaml").read_text(encoding="utf-8")
    text = text.replace("client: HUAXIN", "client: ACME")
    bad = text.replace(
        "{kpi: fcr, label: 一次解决率, min: 0.75", "{kpi: fcrr, label: 一次解决率, min: 0.75"
    )
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "fcrr" in row)
    with pytest.raises(Exception, match=rf"kpis\.1\.kpi \(line {line}\)"):
        contract_load(text=bad)
    both = text.replace("min: 0.90, credit_percent: 3", "min: 0.90, max: 1, credit_percent: 3")
    with pytest.raises(Exception, match="exactly one of min"):
        contract_load(text=both)
    with pytest.raises(Exception, match=r"term\.end is before"):
        contract_load(text=text.replace("end: 2026-12-31", "end: 2025-12-31"))
    assert not Contract.objects.exists()


def test_command_line(calendars: None, tmp_path: Path) -> None:
    Client.objects.create(code="MINGDA", name="明达物业服务", ticket_prefix="MD")
    out = io.StringIO()
    call_command("contract", "load", str(EXAMPLES / "contracts" / "mingda.yaml"), stdout=out)
    assert "MD-GJ-2026-007" in out.getvalue()
    out = io.StringIO()
    call_command("contract", "dump", "MINGDA", stdout=out)
    assert (
        "明达物业客户服务质量提升协议" in out.getvalue() and "improvement_goals" in out.getvalue()
    )
    with pytest.raises(CommandError, match="no contract"):
        call_command("contract", "dump", "NOPE", stdout=io.StringIO())


def test_renewal_reminder_once_when_the_notice_period_starts(calendars: None) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core import mail

    from kefu.accounts.models import User
    from kefu.contracts.services import contract_remind_renewals
    from kefu.contracts.tasks import contract_renewal_mail

    Client.objects.create(code="HUAXIN", name="华信智能家居", ticket_prefix="HX")
    User.objects.create(username="boss", role="admin", email="boss@provider.example")
    contract = contract_load(
        text=(EXAMPLES / "contracts" / "huaxin.yaml").read_text(encoding="utf-8")
    )
    assert contract.payment_milestones[0]["amount"] == "558000"
    sh = ZoneInfo("Asia/Shanghai")
    # Ends 2026-12-31 with 60 days' notice: reminders start on 1 November.
    assert contract_remind_renewals(now=datetime(2026, 10, 31, 12, tzinfo=sh)) == []
    assert contract_remind_renewals(now=datetime(2026, 11, 1, 12, tzinfo=sh)) == [contract]
    assert contract_remind_renewals(now=datetime(2026, 11, 2, 12, tzinfo=sh)) == []
    assert contract_renewal_mail.call(contract.pk) == 1
    assert "HX-KF-2026-001" in mail.outbox[-1].subject


def test_sla_targets_in_seconds_load_and_round_trip(calendars: None) -> None:
    Client.objects.create(code="HUAXIN", name="华信智能家居", ticket_prefix="HX")
    text = (EXAMPLES / "contracts" / "huaxin.yaml").read_text(encoding="utf-8")
    chat = "{metric: first_response, minutes: 1, calendar: cn-standard, channels: [chat, wechat]}"
    assert chat in text
    text = text.replace(chat, chat.replace("minutes: 1", "seconds: 30"))
    contract = contract_load(text=text)
    policy = SlaPolicy.objects.get(client=contract.client, active=True)
    targets = {(t.metric, tuple(t.channels)): t for t in policy.targets.all()}
    assert targets["first_response", ("chat", "wechat")].seconds == 30
    assert targets["first_response", ("phone",)].seconds == 3600
    dumped = contract_dump(contract)
    assert "seconds: 30" in dumped and "minutes: 60" in dumped
    assert contract_dump(contract_load(text=dumped)) == dumped
