from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from kefu.accounts.models import User
from kefu.contracts.models import Client
from kefu.demo.portal import demo_portal
from kefu.mail.models import InboundMail
from kefu.portal.models import PortalSite
from kefu.privacy.fields import phone_index
from kefu.sla.models import SlaClock
from kefu.sms.models import SmsMessage
from kefu.surveys.models import CallbackTask, Survey, SurveyRule
from kefu.tickets import services
from kefu.tickets.models import Channel, Delivery, Escalation, Kind, Message, Ticket


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--tickets", "240", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_builds_a_working_help_desk_once(settings: Any) -> None:
    settings.KEFU_BASE_URL = "http://127.0.0.1:8765"  # `make run PORT=8765`
    text = _demo()
    assert "huaxin_audit" in text and "kefu-demo-2026" in text
    assert "http://127.0.0.1:8765/login/" in text
    assert set(Client.objects.values_list("code", flat=True)) == {"HUAXIN", "MINGDA"}
    assert User.objects.filter(role="agent").count() == 20
    auditor = User.objects.get(username="huaxin_audit")
    assert auditor.client is not None and auditor.client.code == "HUAXIN"
    assert auditor.check_password("kefu-demo-2026")
    # 240 from the history, 2 from the demo mailbox.
    tickets = Ticket.objects.all()
    assert tickets.count() == 242
    assert set(tickets.values_list("channel", flat=True)) >= {
        Channel.EMAIL,
        Channel.CHAT,
        Channel.PHONE,
        Channel.WECHAT,
    }
    assert set(tickets.values_list("kind", flat=True)) == set(Kind.values)
    for t in tickets.filter(status__in=["resolved", "closed"])[:50]:
        assert t.first_resolved_at is not None
        assert t.events.filter(type="status", data__new="resolved").exists()
        assert t.messages.filter(direction="in").exists()
    assert tickets.filter(assignee__isnull=False).count() > 100
    assert tickets.filter(tags__isnull=False).distinct().count() == 240
    # A chat is resolved minutes after the agent's first reply, not hours (chat AHT).
    chats = tickets.filter(channel=Channel.CHAT, first_resolved_at__isnull=False)
    handled = [
        t.first_resolved_at - first.created_at
        for t in chats
        if (first := t.messages.filter(direction="out").order_by("created_at").first())
    ]
    assert len(handled) > 10
    assert all(timedelta(minutes=3) <= h <= timedelta(minutes=30) for h in handled)
    # History tickets are numbered in the order they were opened.
    for code in ("HUAXIN", "MINGDA"):
        numbers = list(
            tickets.filter(client__code=code, external_id__startswith="demo-")
            .order_by("created_at", "pk")
            .values_list("number", flat=True)
        )
        assert numbers == sorted(numbers), code
    # Every reply of the demo reached its customer: the history's at the message's own time
    # (its source system delivered it), the escalation notices on email tickets through
    # the demo mailboxes' file transport.
    replies = Delivery.objects.filter(is_reply=True)
    assert replies.count() > 200 and not replies.exclude(status="sent").exists()
    assert all(d.accepted_at == d.message.created_at for d in replies.select_related("message"))
    assert not Message.objects.filter(direction="out", delivery__isnull=True).exists()
    notices = Delivery.objects.filter(is_reply=False, channel=Channel.EMAIL)
    assert not notices.exclude(status="sent").exists()
    outbox = Path(settings.KEFU_MAIL_OUTBOX)
    # kefu's own surveys of the latest resolved email tickets went out by mail too.
    mailed = Survey.objects.filter(channel="email", origin="resolution", status="sent")
    assert mailed.exists()
    # One that could not go says why and is in no figure.
    assert not Survey.objects.filter(origin="resolution", status="failed", last_error="").exists()
    assert len(list(outbox.glob("*.eml"))) == notices.count() + mailed.count()
    # The contracts' survey rules are loaded; the history's surveys went by the ticket's
    # channel; recent low scores have callbacks; last week's phone sample is drawn.
    assert SurveyRule.objects.count() == 2
    imported = Survey.objects.filter(external_id__startswith="demo-survey-")
    assert set(imported.values_list("channel", flat=True)) <= {"email", "chat", "portal", "sms"}
    assert not imported.filter(channel="sms").exclude(ticket__channel__in=["phone", "wechat"])
    assert CallbackTask.objects.filter(kind="low_score").exists()
    assert CallbackTask.objects.filter(kind="sample").exists()
    # Open tickets run SLA clocks; some are escalated to a department.
    assert SlaClock.objects.exists()
    assert Escalation.objects.filter(status="open").exists()
    # Running it again adds nothing; a new ticket continues the numbering.
    # The mailbox's mails went through the real ingestion, Chinese intact.
    complaint = Ticket.objects.get(subject="投诉：空调安装后漏水")
    assert complaint.channel == Channel.EMAIL
    assert [m.author_name for m in complaint.messages.all()] == ["王镕", "王镕"]
    assert Ticket.objects.filter(subject="查詢：保養合約續期").exists()
    results = dict(InboundMail.objects.values_list("message_id", "result"))
    assert results["demo-autoreply@demo.kefu.example"] == "ignored"
    assert results["demo-nowhere@demo.kefu.example"] == "quarantined"
    # Each client has its portal; a customer of the demo signs in by a code from the
    # console SMS outbox and sees their history.
    assert "/p/HUAXIN/" in text and "/p/MINGDA/" in text
    assert PortalSite.objects.count() == 2
    phone = demo_portal(client=Client.objects.get(code="MINGDA"), name="明达物业服务")
    http = HttpClient()
    assert http.post("/p/MINGDA/login/", {"method": "sms", "phone": phone}).status_code == 302
    sms = SmsMessage.objects.get(purpose="login_code")
    answer = http.post("/p/MINGDA/login/code/", {"code": sms.params["code"]})
    assert answer.status_code == 302
    mine = Ticket.objects.filter(customer__identifiers__key=phone_index(phone)).distinct()
    page = http.get("/p/MINGDA/tickets/").content.decode()
    assert mine.exists() and all(t.number in page for t in mine)
    assert "already loaded" in _demo()
    assert Ticket.objects.count() == 242
    client = Client.objects.get(code="HUAXIN")
    fresh = services.ticket_create(client=client, subject="新工单", body="x", channel="chat")
    assert fresh.number.startswith("HX-")


@pytest.mark.django_db
def test_demo_reset_rebuilds() -> None:
    _demo()
    first = set(Ticket.objects.values_list("pk", flat=True))
    _demo("--reset")
    assert Ticket.objects.count() == 242
    assert InboundMail.objects.count() == 5
    assert first.isdisjoint(set(Ticket.objects.values_list("pk", flat=True)))
    assert User.objects.filter(username="admin").count() == 1
