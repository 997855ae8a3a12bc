from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client as HttpClient

from kefu.conftest import Tenant, run_tasks
from kefu.portal.models import PortalSite
from kefu.sla.tests.conftest import sla_tenant  # noqa: F401  (a fixture)
from kefu.sms.models import Purpose, SmsMessage, SmsTemplate
from kefu.surveys.tests.conftest import rule  # noqa: F401  (a fixture)


def make_site(tenant: Tenant, **extra: object) -> PortalSite:
    code = tenant.client.code
    SmsTemplate.objects.create(
        client=tenant.client,
        purpose=Purpose.LOGIN_CODE,
        provider_code="SMS_100001",
        sign_name=f"{tenant.client.name}客服",
        text="您的登录验证码为{code}，{minutes}分钟内有效。",
    )
    SmsTemplate.objects.create(
        client=tenant.client,
        purpose=Purpose.REPLY_NOTICE,
        provider_code="SMS_100002",
        sign_name=f"{tenant.client.name}客服",
        text="您的工单{number}有新回复，请登录查看：{link}",
    )
    return PortalSite.objects.create(
        client=tenant.client,
        display_name=f"{tenant.client.name}服务中心",
        display_name_en=f"{code} Service",
        **extra,
    )


@pytest.fixture(autouse=True)
def sms_outbox(settings: object, tmp_path: Path) -> Path:
    path = tmp_path / "sms.txt"
    settings.KEFU_SMS_BACKEND = "console"  # type: ignore[attr-defined]
    settings.KEFU_SMS_OUTBOX = path  # type: ignore[attr-defined]
    return path


@pytest.fixture
def site_a(tenant_a: Tenant) -> PortalSite:
    return make_site(tenant_a)


@pytest.fixture
def site_b(tenant_b: Tenant) -> PortalSite:
    return make_site(tenant_b)


def last_code(phone_masked: str = "") -> str:
    sms = SmsMessage.objects.filter(purpose=Purpose.LOGIN_CODE).order_by("-id").first()
    assert sms is not None
    return str(sms.params["code"])


def sign_in(http: HttpClient, site: PortalSite, phone: str = "13800138000") -> None:
    """Sign in by SMS code through the pages, the code read from the console outbox."""
    code = site.client.code
    answer = http.post(f"/p/{code}/login/", {"method": "sms", "phone": phone})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    run_tasks("send_sms")
    answer = http.post(f"/p/{code}/login/code/", {"code": last_code()})
    assert answer.status_code == 302 and answer["Location"] == f"/p/{code}/tickets/", (
        answer.content.decode()[:2000]
    )
