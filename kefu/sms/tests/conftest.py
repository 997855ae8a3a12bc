from __future__ import annotations

from pathlib import Path

import pytest

from kefu.conftest import Tenant
from kefu.sms.models import Purpose, SmsTemplate


@pytest.fixture
def sms_outbox(settings: object, tmp_path: Path) -> Path:
    path = tmp_path / "sms.txt"
    settings.KEFU_SMS_BACKEND = "console"  # type: ignore[attr-defined]
    settings.KEFU_SMS_OUTBOX = path  # type: ignore[attr-defined]
    return path


@pytest.fixture
def code_template(tenant_a: Tenant) -> SmsTemplate:
    return SmsTemplate.objects.create(
        client=tenant_a.client,
        purpose=Purpose.LOGIN_CODE,
        provider_code="SMS_154950909",
        sign_name="甲方A客服",
        text="您的验证码为{code}，10分钟内有效，请勿告诉他人。",
    )
