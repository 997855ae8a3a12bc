"""An agent's reply on a portal ticket: delivered when it is stored where the customer
reads it (the first response is met at that instant), and the customer told by SMS or
mail that there is a reply (best effort, recorded)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.test import Client as HttpClient
from django.utils import timezone

from kefu.conftest import Tenant, run_tasks
from kefu.portal.models import NoticeStatus, PortalSite, ReplyNotice
from kefu.portal.services import portal_request_submit
from kefu.portal.tests.conftest import sign_in
from kefu.sla.models import ClockStatus, Metric
from kefu.sla.tests.conftest import frozen
from kefu.sms.models import Purpose, SmsMessage, SmsStatus
from kefu.tickets import services
from kefu.tickets.models import Delivery, DeliveryStatus, Ticket


def _urgent(tenant: Tenant) -> Ticket:
    return portal_request_submit(
        client=tenant.client,
        customer=tenant.customer,
        kind="fault",
        description="整栋楼停网",
        urgent=True,
        urgent_reason="营业厅无法收银",
    )


def test_reply_is_delivered_and_meets_first_response_when_stored(
    sla_tenant: Tenant, site_a: PortalSite, sms_outbox: Path, settings: object
) -> None:
    settings.KEFU_SMS_PER_NUMBER = "10/60"  # type: ignore[attr-defined]
    ticket = _urgent(sla_tenant)
    replied_at = timezone.now() + timedelta(minutes=17)
    with frozen(replied_at):
        message = services.ticket_reply(
            ticket=ticket, actor=sla_tenant.agent, body="已派工程师，预计一小时内到场。"
        )
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.SENT and delivery.accepted_at == replied_at
    clock = ticket.clocks.get(metric=Metric.FIRST_RESPONSE)
    assert clock.status == ClockStatus.MET and clock.met_at == replied_at
    # The customer reads it on the portal at once.
    http = HttpClient()
    sign_in(http, site_a)
    assert "已派工程师" in http.get(f"/p/ACME/tickets/{ticket.number}/").content.decode()
    # …and is told by SMS that there is a reply.
    notice = ReplyNotice.objects.get(message=message)
    assert notice.status == NoticeStatus.QUEUED
    run_tasks("send_reply_notice")
    run_tasks("send_sms")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.method == "sms"
    sms = SmsMessage.objects.get(purpose=Purpose.REPLY_NOTICE)
    assert sms.status == SmsStatus.SENT and sms.ticket_id == ticket.pk
    text = sms_outbox.read_text(encoding="utf-8")
    assert (
        f"您的工单{ticket.number}有新回复" in text and f"/p/ACME/tickets/{ticket.number}/" in text
    )


def test_notice_goes_by_mail_when_there_is_no_phone(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    customer = services.customer_create(
        client=tenant_a.client, data=services.CustomerData(email="only@mail.example")
    )
    ticket = portal_request_submit(
        client=tenant_a.client, customer=customer, kind="inquiry", description="发票怎么开"
    )
    services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="请在App里申请。")
    run_tasks("send_reply_notice")
    notice = ReplyNotice.objects.get(ticket=ticket)
    assert notice.status == NoticeStatus.SENT and notice.method == "email"
    mails = [p.read_text() for p in Path(settings.KEFU_MAIL_OUTBOX).glob("*.eml")]  # type: ignore[attr-defined]
    assert any("only@mail.example" in m and ticket.number in m for m in mails)


def test_notice_falls_back_to_mail_when_sms_is_rate_limited(
    tenant_a: Tenant, site_a: PortalSite, settings: object
) -> None:
    sign_in(HttpClient(), site_a)  # a sign-in code to the phone just now
    ticket = _urgent(tenant_a)
    services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="收到")
    run_tasks("send_reply_notice")
    notice = ReplyNotice.objects.get(ticket=ticket)
    assert notice.status == NoticeStatus.SENT and notice.method == "email"
    assert "发送过于频繁" in notice.detail


def test_notice_failure_is_recorded_and_the_reply_still_counts(
    tenant_a: Tenant, site_a: PortalSite
) -> None:
    customer = services.customer_create(
        client=tenant_a.client, data=services.CustomerData(name="无联系方式")
    )
    ticket = portal_request_submit(
        client=tenant_a.client, customer=customer, kind="inquiry", description="问个问题"
    )
    message = services.ticket_reply(ticket=ticket, actor=tenant_a.agent, body="好的")
    run_tasks("send_reply_notice")
    notice = ReplyNotice.objects.get(ticket=ticket)
    assert notice.status == NoticeStatus.SKIPPED and "no verified" in notice.detail
    assert Delivery.objects.get(message=message).status == DeliveryStatus.SENT


def test_an_internal_note_sends_no_notice(tenant_a: Tenant, site_a: PortalSite) -> None:
    ticket = _urgent(tenant_a)
    services.ticket_add_note(ticket=ticket, actor=tenant_a.agent, body="内部：先查机房")
    assert not ReplyNotice.objects.exists()
    assert not Delivery.objects.filter(ticket=ticket).exists()
