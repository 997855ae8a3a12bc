from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from kefu.calendars.services import calendar_load, statutory_sync
from kefu.conftest import Tenant
from kefu.sla.policies import sla_policy_load

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SH = ZoneInfo("Asia/Shanghai")

POLICY = """
client: ACME
name: 测试协议
targets:
  - {metric: first_response, minutes: 120, calendar: 7x24, priorities: [urgent]}
  - {metric: acknowledge, minutes: 120, calendar: cn-standard}
  - {metric: first_response, minutes: 240, calendar: cn-standard, channels: [email]}
  - {metric: first_response, minutes: 1, calendar: cn-standard, channels: [chat]}
  - {metric: next_response, minutes: 450, calendar: cn-standard}
  - {metric: escalation, minutes: 960, calendar: cn-standard, kinds: [complaint]}
  - {metric: resolution, minutes: 240, calendar: 7x24, priorities: [urgent]}
  - {metric: resolution, minutes: 2250, calendar: cn-standard, warn_percent: 50}
"""


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A wall-clock instant in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Pin "now" for services that stamp the current instant."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@pytest.fixture
def sla_tenant(tenant_a: Tenant) -> Tenant:
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
    statutory_sync(years=[2025, 2026])
    sla_policy_load(text=POLICY)
    return tenant_a
