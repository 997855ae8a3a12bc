"""Sending SMS: the console backend, Alibaba Cloud's API (a local fake of it on 127.0.0.1)
accepting, refusing, throttling and timing out, retries with back-off, the per-number rate
limit, and what staff see of it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kefu.conftest import Tenant, login, run_tasks
from kefu.sms.models import Purpose, SmsMessage, SmsStatus, SmsTemplate
from kefu.sms.services import SmsRateLimited, sms_retry, sms_retry_due, sms_send
from kefu.sms.tests.fake_aliyun import FakeDysms, fake_dysms

SECRET = "testSecretForFakeDysms0123456789"


@pytest.fixture
def dysms(settings: object) -> object:
    with fake_dysms(SECRET) as fake:
        settings.KEFU_SMS_BACKEND = "aliyun"  # type: ignore[attr-defined]
        settings.KEFU_SMS_ALIYUN_ENDPOINT = fake.base  # type: ignore[attr-defined]
        settings.KEFU_SMS_ALIYUN_KEY_ID = "LTAI4FakeKeyId"  # type: ignore[attr-defined]
        settings.KEFU_SMS_ALIYUN_KEY_SECRET = SECRET  # type: ignore[attr-defined]
        settings.KEFU_SMS_TIMEOUT = 0.5  # type: ignore[attr-defined]
        yield fake


def _send(tenant: Tenant, to: str = "13800138000", **kw: object) -> SmsMessage:
    return sms_send(
        client=tenant.client,
        to=to,
        purpose=Purpose.LOGIN_CODE,
        params={"code": "483920"},
        **kw,  # type: ignore[arg-type]
    )


def test_console_backend_writes_the_signed_text_to_the_outbox(
    tenant_a: Tenant, code_template: SmsTemplate, sms_outbox: Path
) -> None:
    sms = _send(tenant_a, to="+86 138-0013-8000")
    assert sms.status == SmsStatus.QUEUED and not sms_outbox.exists()
    assert run_tasks("send_sms") == 1
    line = sms_outbox.read_text(encoding="utf-8").splitlines()[-1]
    _at, to, text = line.split("\t")
    assert to == "13800138000"
    assert text == "【甲方A客服】您的验证码为483920，10分钟内有效，请勿告诉他人。"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and sms.attempts == 1 and sms.sent_at is not None
    assert sms.to_masked == "138****8000"


def test_number_and_code_are_encrypted_at_rest(
    tenant_a: Tenant, code_template: SmsTemplate, sms_outbox: Path
) -> None:
    from django.db import connection

    sms = _send(tenant_a)
    with connection.cursor() as cur:
        cur.execute('SELECT "to", params FROM sms_smsmessage WHERE id = %s', [sms.pk])
        to, params = cur.fetchone()
    assert "13800138000" not in to and "483920" not in params
    assert SmsMessage.objects.get(pk=sms.pk).params == {"code": "483920"}


def test_aliyun_accepts_a_correctly_signed_request(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    sms = _send(tenant_a)
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT, sms.error
    assert sms.provider_id.startswith("900619746936498440")
    sent = dysms.requests[-1]
    assert sent["PhoneNumbers"] == "13800138000"
    assert sent["SignName"] == "甲方A客服" and sent["TemplateCode"] == "SMS_154950909"
    assert json.loads(sent["TemplateParam"]) == {"code": "483920"}
    assert sent["OutId"] == f"kefu-{sms.pk}"


def test_aliyun_refusal_fails_with_the_providers_code_and_is_not_retried(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    dysms.mode = "refuse"
    sms = _send(tenant_a)
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED and sms.attempts == 1
    assert sms.error == "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"
    assert sms_retry_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(dysms.requests) == 1


def test_wrong_secret_is_refused_by_the_provider(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms, settings: object
) -> None:
    settings.KEFU_SMS_ALIYUN_KEY_SECRET = "not-the-secret"  # type: ignore[attr-defined]
    sms = _send(tenant_a)
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED
    assert sms.error.startswith("SignatureDoesNotMatch:")


def test_timeout_is_retried_with_backoff_then_sent(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    dysms.mode = "slow"
    sms = _send(tenant_a)
    started = timezone.now()
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED and sms.attempts == 1
    assert sms.error.startswith("timeout:")
    assert sms.next_attempt_at is not None
    assert sms.next_attempt_at - started >= timedelta(seconds=55)
    # Not due yet: nothing is sent before the back-off has passed.
    assert sms_retry_due(now=timezone.now()) == 0
    dysms.mode = "ok"
    assert sms_retry_due(now=sms.next_attempt_at + timedelta(seconds=1)) == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and sms.attempts == 2 and sms.error == ""


def test_server_errors_retry_until_the_last_attempt_then_staff_retry(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    dysms.mode = "error500"
    sms = _send(tenant_a)
    run_tasks("send_sms")
    now = timezone.now()
    for _ in range(SmsMessage.MAX_ATTEMPTS):
        now += timedelta(hours=1)
        sms_retry_due(now=now)
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED and sms.attempts == SmsMessage.MAX_ATTEMPTS
    assert sms.error.startswith("InternalError:")
    dysms.mode = "ok"
    sms_retry(sms=sms, actor=tenant_a.agent)
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT


def test_a_code_is_not_retried_past_its_expiry(
    tenant_a: Tenant, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    dysms.mode = "throttle"
    sms = _send(tenant_a, expires_at=timezone.now() + timedelta(seconds=30))
    run_tasks("send_sms")
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED
    assert sms.error.startswith("isv.BUSINESS_LIMIT_CONTROL")


def test_rate_limit_per_number_refuses_and_writes_nothing(
    tenant_a: Tenant, tenant_b: Tenant, code_template: SmsTemplate, sms_outbox: Path
) -> None:
    SmsTemplate.objects.create(
        client=tenant_b.client, purpose=Purpose.LOGIN_CODE, sign_name="乙", text="码{code}"
    )
    now = timezone.now()
    _send(tenant_a, now=now)
    with pytest.raises(SmsRateLimited) as refused:
        _send(tenant_b, to="138 0013 8000", now=now + timedelta(seconds=20))
    assert "40" in refused.value.messages[0]
    _send(tenant_a, to="13900139000", now=now + timedelta(seconds=20))  # another number
    for minutes in (2, 4, 6, 8):
        _send(tenant_a, now=now + timedelta(minutes=minutes))
    with pytest.raises(SmsRateLimited):
        _send(tenant_a, now=now + timedelta(minutes=10))
    assert SmsMessage.objects.count() == 6


def test_bad_number_and_missing_template_are_refused(tenant_a: Tenant, sms_outbox: Path) -> None:
    with pytest.raises(ValidationError):
        _send(tenant_a)  # no template for the purpose yet
    SmsTemplate.objects.create(
        client=tenant_a.client, purpose=Purpose.LOGIN_CODE, sign_name="甲", text="{code}"
    )
    with pytest.raises(ValidationError):
        _send(tenant_a, to="12345")
    assert SmsMessage.objects.count() == 0


def test_staff_see_failed_sms_masked_in_the_admin(
    tenant_a: Tenant, admin_user: object, code_template: SmsTemplate, dysms: FakeDysms
) -> None:
    dysms.mode = "refuse"
    _send(tenant_a)
    run_tasks("send_sms")
    page = login(admin_user).get("/admin/sms/smsmessage/?status__exact=failed")  # type: ignore[arg-type]
    html = page.content.decode()
    assert page.status_code == 200
    assert "138****8000" in html and "isv.MOBILE_NUMBER_ILLEGAL" in html
    assert "13800138000" not in html and "483920" not in html
