"""Data-subject requests: export everything about one customer, anonymise one customer."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from kefu.accounts.models import User
from kefu.conftest import Tenant, login
from kefu.core.models import AuditAction, AuditEvent
from kefu.phone.models import Call
from kefu.privacy.parts import ANON_NAME, scrub_text
from kefu.privacy.services import customer_anonymise, customer_export
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis
from kefu.surveys.models import Survey
from kefu.tickets import services as tickets
from kefu.tickets.models import Attachment, Customer, Message, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAST_MONTH = "2026-10"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def month_of_work(t: Tenant) -> Ticket:
    """October 2026 for tenant ``t``'s customer: a ticket answered, resolved, called about
    and rated, with the customer's details in its text and an attachment."""
    at = datetime(2026, 10, 12, 9, 30, tzinfo=SHANGHAI)
    ticket = tickets.ticket_create(
        client=t.client,
        subject="王小明 13800138000 报修",
        body="我是王小明，电话 138 0013 8000，邮箱 wang@example.cn，身份证 11010519491231002X",
        channel="phone",
        customer=t.customer,
        created_at=at,
    )
    tickets.ticket_reply(
        ticket=ticket,
        actor=t.agent,
        body="王小明您好，已安排上门。",
        attachments=[SimpleUploadedFile("工单照片.jpg", b"\xff\xd8photo", "image/jpeg")],
        at=at + timedelta(minutes=20),
    )
    tickets.ticket_set_status(
        ticket=ticket, actor=t.agent, status="resolved", at=at + timedelta(hours=3)
    )
    Call.objects.create(
        client=t.client,
        offered_at=at - timedelta(minutes=1),
        answered_at=at - timedelta(seconds=45),
        ended_at=at + timedelta(minutes=5),
        wait_s=15,
        talk_s=345,
        agent=t.agent,
        ticket=ticket,
    )
    Survey.objects.create(
        client=t.client,
        ticket=ticket,
        channel="sms",
        sent_at=at + timedelta(hours=4),
        answered_at=at + timedelta(hours=5),
        score=5,
        comment="师傅很好，有事打我 13800138000",
    )
    return ticket


def kpis(t: Tenant, label: str = PAST_MONTH) -> dict[str, Any]:
    return client_kpis(t.client, month(label, t.client.time_zone))


@pytest.mark.parametrize(
    ("text", "identifiers", "expected"),
    [
        ("", (), ""),
        ("没有个人信息的文字", ("王小明",), "没有个人信息的文字"),
        ("我是王小明", ("王小明",), "我是[姓名]"),
        ("电话 138 0013 8000", (), "电话 [电话]"),
        ("电话+86 13800138000。", (), "电话[电话]。"),
        ("座机 010-88886666", (), "座机 [电话]"),
        ("写信到 wang@example.cn 谢谢", (), "写信到 [邮箱] 谢谢"),
        ("身份证11010519491231002X", (), "身份证[身份证号]"),
        ("订单号 202611301380013800099", (), "订单号 202611301380013800099"),
        ("分机 8001，找王", ("8001",), "分机 [电话]，找王"),
        ("王小明：王小明", ("王小明", "王"), "[姓名]：[姓名]"),
        ("[姓名]已匿名", ("王小明",), "[姓名]已匿名"),
    ],
)
def test_scrub_text(text: str, identifiers: tuple[str, ...], expected: str) -> None:
    assert scrub_text(text, identifiers) == expected
    assert scrub_text(expected, identifiers) == expected


def test_export_holds_everything_about_the_customer(tenant_a: Tenant, admin_user: User) -> None:
    ticket = month_of_work(tenant_a)
    body = customer_export(actor=admin_user, customer=tenant_a.customer)
    archive = zipfile.ZipFile(io.BytesIO(body))
    data = json.loads(archive.read("customer.json"))
    assert data["customer"]["name"] == "王小明"
    assert data["customer"]["phones"] == ["13800138000"]
    numbers = [t["number"] for t in data["tickets"]]
    assert ticket.number in numbers and tenant_a.ticket.number in numbers
    mine = next(t for t in data["tickets"] if t["number"] == ticket.number)
    assert "11010519491231002X" in mine["messages"][0]["body_text"]  # unmasked: their own
    [attachment] = mine["messages"][1]["attachments"]
    assert archive.read(attachment["file"]) == b"\xff\xd8photo"
    assert [s["comment"] for s in data["surveys"]] == ["师傅很好，有事打我 13800138000"]
    assert [c["ticket"] for c in data["calls"]] == [ticket.number]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor == admin_user and event.object_id == str(tenant_a.customer.pk)
    assert "王小明" not in json.dumps(event.data, ensure_ascii=False)


def test_anonymise_removes_personal_data_and_keeps_past_kpis(
    tenant_a: Tenant,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ticket = month_of_work(tenant_a)
    file_name = Attachment.objects.get(ticket=ticket).file.name
    assert default_storage.exists(file_name)
    before = kpis(tenant_a)
    assert before["kpis"]["csat"]["denominator"] == 1  # the month has figures to keep

    with django_capture_on_commit_callbacks(execute=True):
        counts = customer_anonymise(
            actor=admin_user, customer=tenant_a.customer, reason="客户来电要求删除"
        )

    assert kpis(tenant_a) == before
    customer = Customer.objects.get(pk=tenant_a.customer.pk)
    assert customer.name == ANON_NAME
    assert (customer.phones, customer.emails, customer.phone_key, customer.email_key) == (
        [],
        [],
        "",
        "",
    )
    texts = " ".join(
        m.body_text + m.author_name for m in Message.objects.filter(ticket__customer=customer)
    )
    for personal in ("王小明", "13800138000", "138 0013 8000", "wang@", "11010519491231002X"):
        assert personal not in texts
        assert personal not in Ticket.objects.get(pk=ticket.pk).subject
    assert "已安排上门" in texts  # the matter itself stays readable
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.comment, survey.score) == ("", 5)
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert not default_storage.exists(file_name)
    assert Call.objects.get(ticket=ticket).talk_s == 345
    assert counts["customer"] == 1 and counts["attachment"] == 1
    event = AuditEvent.objects.get(action=AuditAction.ANONYMISE)
    assert event.reason == "客户来电要求删除" and event.data["counts"] == counts

    again = customer_anonymise(actor=admin_user, customer=customer, reason="再次请求")
    assert again == {}  # nothing left to anonymise


def test_anonymise_needs_a_reason_and_the_right(tenant_a: Tenant, admin_user: User) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError):
        customer_anonymise(actor=admin_user, customer=tenant_a.customer, reason="  ")
    with pytest.raises(PermissionDenied):
        customer_anonymise(actor=tenant_a.supervisor, customer=tenant_a.customer, reason="x")
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == "王小明"


def test_customer_page_export_and_anonymise(tenant_a: Tenant, admin_user: User) -> None:
    http = login(admin_user)
    ticket_page = http.get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    url = f"/privacy/customers/{tenant_a.customer.pk}/"
    assert url in ticket_page
    assert url not in login(tenant_a.agent).get(f"/tickets/{tenant_a.ticket.pk}/").content.decode()
    page = http.get(url)
    assert page.status_code == 200 and "导出 ZIP" in page.content.decode()

    r = http.post(url + "export/")
    assert r["Content-Type"] == "application/zip"
    assert "customer.json" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()

    r = http.post(url + "anonymise/", {"reason": "客户要求"})  # not confirmed
    assert r.status_code == 302
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == "王小明"
    r = http.post(url + "anonymise/", {"reason": "客户要求", "confirm": "yes"}, follow=True)
    assert "已匿名化该客户" in r.content.decode()
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == ANON_NAME


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "department_user"])
def test_only_privacy_managers_reach_customer_requests(tenant_a: Tenant, role: str) -> None:
    http = login(getattr(tenant_a, role))
    url = f"/privacy/customers/{tenant_a.customer.pk}/"
    assert http.get(url).status_code == 403
    assert http.post(url + "export/").status_code == 403
    assert http.post(url + "anonymise/", {"reason": "x", "confirm": "yes"}).status_code == 403
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == "王小明"


def test_commands(tenant_a: Tenant, tmp_path: Path) -> None:
    out = tmp_path / "c.zip"
    pk = str(tenant_a.customer.pk)
    call_command("privacy", "export-customer", "--client", "ACME", "--customer", pk, "--out", out)
    assert "customer.json" in zipfile.ZipFile(out).namelist()
    text = io.StringIO()
    call_command(
        "privacy",
        "anonymise-customer",
        "--client",
        "ACME",
        "--customer",
        pk,
        "--reason",
        "来电",
        stdout=text,
    )
    assert "anonymised customer" in text.getvalue()
    assert Customer.objects.get(pk=tenant_a.customer.pk).name == ANON_NAME
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no customer"):
        call_command(
            "privacy", "export-customer", "--client", "ACME", "--customer", "0", "--out", out
        )
