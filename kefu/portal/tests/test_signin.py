"""Signing in to the portal: codes by SMS and links by email, guessing, expiry, reuse, the
limits per number, address and IP, and which customer a proved identifier finds."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from django.test import Client as HttpClient
from django.utils import timezone

from kefu.conftest import Tenant, run_tasks
from kefu.portal.models import PortalSite, SignInChallenge
from kefu.portal.signin import signin_code_send, signin_prove
from kefu.portal.tests.conftest import last_code, sign_in
from kefu.sms.models import SmsMessage
from kefu.tickets import services
from kefu.tickets.models import Customer, CustomerIdentifier, IdentifierKind


def test_code_by_sms_signs_in_the_customer_holding_the_verified_phone(
    tenant_a: Tenant, site_a: PortalSite, sms_outbox: Path
) -> None:
    http = HttpClient()
    answer = http.post("/p/ACME/login/", {"method": "sms", "phone": "138 0013 8000"})
    assert answer.status_code == 302
    run_tasks("send_sms")
    line = sms_outbox.read_text(encoding="utf-8").splitlines()[-1]
    code = re.search(r"验证码为(\d{6})", line)
    assert code and "13800138000" in line and "【甲方A客服】" in line
    # The code is not stored: only a keyed hash of it.
    challenge = SignInChallenge.objects.get()
    assert code.group(1) not in challenge.secret_hash
    answer = http.post("/p/ACME/login/code/", {"code": code.group(1)})
    assert answer.status_code == 302
    page = http.get("/p/ACME/tickets/")
    assert tenant_a.ticket.number in page.content.decode()  # an email ticket of theirs


def test_unknown_number_becomes_a_new_verified_customer(
    tenant_a: Tenant, site_a: PortalSite
) -> None:
    before = Customer.objects.filter(client=tenant_a.client).count()
    sign_in(HttpClient(), site_a, phone="13911112222")
    assert Customer.objects.filter(client=tenant_a.client).count() == before + 1
    row = CustomerIdentifier.objects.get(
        client=tenant_a.client,
        kind=IdentifierKind.PHONE,
        key=services.identifier_index(IdentifierKind.PHONE, "13911112222"),
    )
    assert row.verified


def test_signing_in_verifies_a_phone_an_agent_typed(tenant_a: Tenant, site_a: PortalSite) -> None:
    typed = services.customer_create(
        client=tenant_a.client,
        data=services.CustomerData(name="李四", phone="13722223333", verified=False),
    )
    ticket = services.ticket_create(
        client=tenant_a.client,
        subject="电话登记的问题",
        body="x",
        channel="phone",
        customer=typed,
        actor=tenant_a.agent,
    )
    http = HttpClient()
    sign_in(http, site_a, phone="13722223333")
    assert ticket.number in http.get("/p/ACME/tickets/").content.decode()
    assert CustomerIdentifier.objects.get(customer=typed, kind=IdentifierKind.PHONE).verified


def test_wrong_codes_lock_out_the_number(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    http = HttpClient()
    http.post("/p/ACME/login/", {"method": "sms", "phone": "13800138000"})
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    texts = []
    for _ in range(5):
        answer = http.post("/p/ACME/login/code/", {"code": wrong})
        assert answer.status_code == 400
        texts.append(answer.content.decode())
    assert "还可尝试 4 次" in texts[0] and "已锁定" in texts[-1]
    # The right code no longer works, and no new code is sent while locked.
    answer = http.post("/p/ACME/login/code/", {"code": right})
    assert answer.status_code == 400 and "错误次数过多" in answer.content.decode()
    sent = SmsMessage.objects.count()
    later = timezone.now() + timedelta(minutes=2)
    try:
        signin_code_send(site=site_a, phone="13800138000", ip=None, now=later)
        raise AssertionError("a locked number got a new code")
    except Exception as exc:
        assert "锁定" in str(exc)
    assert SmsMessage.objects.count() == sent
    # After the lock-out a new code is sent.
    signin_code_send(
        site=site_a, phone="13800138000", ip=None, now=timezone.now() + timedelta(minutes=16)
    )
    assert SmsMessage.objects.count() == sent + 1


def test_expired_and_used_codes_are_refused(tenant_a: Tenant, site_a: PortalSite) -> None:
    now = timezone.now()
    challenge = signin_code_send(site=site_a, phone="13800138000", ip=None, now=now)
    code = last_code()
    late = now + timedelta(minutes=11)
    try:
        signin_prove(site=site_a, challenge_id=challenge.pk, secret=code, method="sms", now=late)
        raise AssertionError("an expired code signed in")
    except Exception as exc:
        assert "过期" in str(exc)
    customer = signin_prove(site=site_a, challenge_id=challenge.pk, secret=code, method="sms")
    assert customer == tenant_a.customer
    try:
        signin_prove(site=site_a, challenge_id=challenge.pk, secret=code, method="sms")
        raise AssertionError("a used code signed in twice")
    except Exception as exc:
        assert "已使用" in str(exc)


def test_a_code_of_one_portal_does_not_sign_in_to_another(
    tenant_a: Tenant, tenant_b: Tenant, site_a: PortalSite, site_b: PortalSite
) -> None:
    challenge = signin_code_send(site=site_a, phone="13800138000", ip=None)
    try:
        signin_prove(site=site_b, challenge_id=challenge.pk, secret=last_code(), method="sms")
        raise AssertionError("client A's code signed in to client B's portal")
    except Exception as exc:
        assert "无效" in str(exc)


def test_limits_per_number_and_per_ip(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    settings.KEFU_SMS_PER_NUMBER = "100/60"  # type: ignore[attr-defined]
    now = timezone.now()
    for i in range(5):
        signin_code_send(
            site=site_a, phone="13800138000", ip="10.0.0.1", now=now + timedelta(seconds=i)
        )
    http = HttpClient(REMOTE_ADDR="10.0.0.1")
    answer = http.post("/p/ACME/login/", {"method": "sms", "phone": "13800138000"})
    assert answer.status_code == 400 and "请求过于频繁" in answer.content.decode()
    settings.KEFU_PORTAL_PER_IP_HOUR = 8  # type: ignore[attr-defined]
    for i in range(3):
        signin_code_send(site=site_a, phone=f"1390000000{i}", ip="10.0.0.1", now=now)
    answer = http.post("/p/ACME/login/", {"method": "sms", "phone": "13912345678"})
    assert answer.status_code == 400 and "network" in answer.content.decode()
    other = HttpClient(REMOTE_ADDR="10.0.0.2")
    assert (
        other.post("/p/ACME/login/", {"method": "sms", "phone": "13912345678"}).status_code == 302
    )


def test_sms_rate_limit_is_a_clear_answer(tenant_a: Tenant, site_a: PortalSite) -> None:
    http = HttpClient()
    assert http.post("/p/ACME/login/", {"method": "sms", "phone": "13800138000"}).status_code == 302
    answer = http.post("/p/ACME/login/", {"method": "sms", "phone": "13800138000"})
    assert answer.status_code == 400 and "发送过于频繁" in answer.content.decode()
    assert SignInChallenge.objects.count() == 1  # the refused request left nothing behind


def _link(outbox: Path) -> str:
    assert run_tasks("send_signin_link") == 1
    mails = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    found = re.search(r"http://testserver(/p/ACME/login/link/\d+/[\w-]+/)", mails[-1].read_text())
    assert found
    return found.group(1)


def test_email_link_signs_in_once(tenant_a: Tenant, site_a: PortalSite, settings: object) -> None:
    http = HttpClient()
    with_capture = http.post("/p/ACME/login/", {"method": "email", "email": "Wang@ACME.cn"})
    assert with_capture.status_code == 200
    link = _link(Path(settings.KEFU_MAIL_OUTBOX))  # type: ignore[attr-defined]
    assert http.get(link).status_code == 200  # opening it (a mail scanner) signs nobody in
    assert http.get("/p/ACME/tickets/").status_code == 302
    assert http.post(link).status_code == 302
    assert tenant_a.ticket.number in http.get("/p/ACME/tickets/").content.decode()
    again = HttpClient().post(link)
    assert again.status_code == 400 and "已使用" in again.content.decode()


def test_a_guessed_or_expired_link_is_refused(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    http = HttpClient()
    http.post("/p/ACME/login/", {"method": "email", "email": "wang@ACME.cn"})
    link = _link(Path(settings.KEFU_MAIL_OUTBOX))  # type: ignore[attr-defined]
    guessed = re.sub(r"/[\w-]+/$", "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", link)
    assert http.post(guessed).status_code == 400
    SignInChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = http.post(link)
    assert answer.status_code == 400 and "过期" in answer.content.decode()
    assert http.get("/p/ACME/tickets/").status_code == 302
