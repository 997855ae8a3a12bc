"""The provider admin's quarantine page; the acknowledgement mail as the customer gets it."""

from __future__ import annotations

from django.urls import reverse

from kefu.accounts.models import User
from kefu.conftest import Tenant, login
from kefu.core.models import AuditEvent
from kefu.mail.models import InboundMail, OutboundMail
from kefu.mail.outbound import build_email
from kefu.mail.services import mail_ingest
from kefu.mail.tests.conftest import eml, make_mailbox
from kefu.tickets.models import Ticket


def _quarantined() -> InboundMail:
    result = mail_ingest(
        raw=eml(to="kefu@later.example"), source="lmtp", recipients=["kefu@later.example"]
    )
    return InboundMail.objects.get(pk=result.inbound_id or 0)


def test_admin_sees_downloads_and_reprocesses_quarantine(
    tenant_a: Tenant, admin_user: User
) -> None:
    row = _quarantined()
    http = login(admin_user)
    page = http.get(reverse("mail:quarantine")).content.decode()
    assert f'id="inbound-{row.pk}"' in page and "kefu@later.example" in page
    raw = http.get(reverse("mail:inbound_raw", args=[row.pk]))
    assert raw.status_code == 200 and raw.content == eml(to="kefu@later.example")
    assert AuditEvent.objects.filter(object_id=str(row.pk), action="export").exists()
    # Still unknown: stays quarantined.
    http.post(reverse("mail:inbound_reprocess", args=[row.pk]))
    row.refresh_from_db()
    assert row.result == "quarantined" and row.attempts == 2
    make_mailbox(tenant_a, "kefu@later.example")
    http.post(reverse("mail:inbound_reprocess", args=[row.pk]))
    row.refresh_from_db()
    assert row.result == "created" and row.ticket is not None
    assert f'id="inbound-{row.pk}"' not in http.get(reverse("mail:quarantine")).content.decode()


def test_quarantine_is_closed_to_other_roles(tenant_a: Tenant) -> None:
    row = _quarantined()
    for user in (tenant_a.agent, tenant_a.supervisor, tenant_a.auditor):
        http = login(user)
        assert http.get(reverse("mail:quarantine")).status_code == 403
        assert http.get(reverse("mail:inbound_raw", args=[row.pk])).status_code == 403
        http.post(reverse("mail:inbound_reprocess", args=[row.pk]))
    row.refresh_from_db()
    assert row.result == "quarantined" and row.attempts == 1


def test_acknowledgement_mail_is_bilingual_numbered_and_marked_automatic(
    tenant_a: Tenant,
) -> None:
    from pathlib import Path

    from kefu.calendars.services import calendar_load
    from kefu.sla.policies import sla_policy_load

    examples = Path(__file__).resolve().parents[3] / "examples"
    calendar_load(text=(examples / "calendars" / "7x24.yaml").read_text(encoding="utf-8"))
    sla_policy_load(
        text="client: ACME\nname: x\ntargets:\n"
        "  - {metric: acknowledge, minutes: 60, calendar: 7x24}\n"
    )
    mailbox = make_mailbox(tenant_a, "kefu@acme.example", smtp_host="127.0.0.1")
    mailbox.ack_body_zh = "{{ client }}已收到，工单号 {{ number }}。"
    mailbox.save()
    result = mail_ingest(raw=eml(subject='"空调" & 遥控器'), source="imap", mailbox=mailbox)
    mail = build_email(OutboundMail.objects.get(kind="ack")).message()
    body = mail.get_payload(decode=True).decode()
    assert f"甲方A已收到，工单号 {result.ticket}。" in body
    assert f"registered it as ticket {result.ticket}" in body and '"空调" & 遥控器' in body
    assert mail["Auto-Submitted"] == "auto-replied"
    ticket = Ticket.objects.get(number=result.ticket, client=tenant_a.client)
    assert ticket.channel == "email"


def test_ticket_page_folds_the_quoted_history_of_a_mail(tenant_a: Tenant) -> None:
    body = "好的，我明天在家。\n\n在 2026年11月5日 10:02，客服中心 写道：\n> 请问您哪天方便上门？\n"
    mailbox = make_mailbox(tenant_a, "kefu@acme.example")
    result = mail_ingest(raw=eml(body=body), source="imap", mailbox=mailbox)
    ticket = Ticket.objects.get(number=result.ticket, client=tenant_a.client)
    page = login(tenant_a.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    new_at = page.index("好的，我明天在家。")
    details_at = page.index('<details class="quoted">')
    assert new_at < details_at < page.index("请问您哪天方便上门？")
