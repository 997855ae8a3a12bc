from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.calendars.services import calendar_load, statutory_sync
from kefu.conftest import Tenant
from kefu.contracts.documents import contract_load
from kefu.surveys.models import SurveyRule
from kefu.tickets import services as tickets
from kefu.tickets.models import Status, Ticket

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SH = ZoneInfo("Asia/Shanghai")

CONTRACT = """
client: ACME
number: ACME-2026
title: 测试服务合同
party_a: 甲方A
party_b: 乙方
term: {start: 2020-01-01, end: 2099-12-31}
fee: {monthly: 10000}
channels: [email, chat, phone, portal]
calendars: {service: cn-standard, emergency: 7x24}
survey:
  channels: [email, portal, chat, phone]
  delay_minutes: 60
  link_days: 14
  zh: {title: 甲方A满意度调查, question: 您对本次服务满意吗？}
  en: {title: ACME satisfaction survey, question: "How satisfied are you?"}
  low_score_max: 2
  callback_due_minutes: 480
  sample:
    {percent: 20, minimum: 3, exclude_answered: true, exclude_kinds: [complaint], due_minutes: 2400}
"""


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def rule(tenant_a: Tenant) -> SurveyRule:
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
    statutory_sync(years=[2025, 2026, 2027])
    contract = contract_load(text=CONTRACT)
    return SurveyRule.objects.get(contract=contract)


def resolved_ticket(
    t: Tenant,
    *,
    channel: str = "email",
    at: datetime | None = None,
    kind: str = "inquiry",
    subject: str = "路由器无法联网",
) -> Ticket:
    ticket = tickets.ticket_create(
        client=t.client,
        subject=subject,
        body="你好，请帮忙看看。",
        channel=channel,
        customer=t.customer,
        actor=t.agent,
        kind=kind,
        created_at=at,
    )
    tickets.ticket_set_status(ticket=ticket, actor=t.agent, status=Status.RESOLVED, at=at)
    ticket.refresh_from_db()
    return ticket
