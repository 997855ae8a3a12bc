"""Ingestion through the real service: outcomes, threading, loops and noise,
acknowledgements, quarantine and re-processing."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.accounts.models import User
from kefu.calendars.services import calendar_load
from kefu.conftest import Tenant
from kefu.mail.models import InboundMail, MailAddressStatus, Mailbox, OutboundMail, Result
from kefu.mail.outbound import outbound_send
from kefu.mail.services import ACK_PER_HOUR, mail_ingest, mail_reprocess
from kefu.mail.tests.conftest import SmtpCapture, eml, make_mailbox
from kefu.privacy.services import customer_anonymise, customer_export
from kefu.sla.models import SlaClock
from kefu.sla.policies import sla_policy_load
from kefu.tickets.models import Channel, Message, Ticket
from kefu.tickets.services import ticket_escalate

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

ACK_POLICY = """
client: ACME
name: 邮件确认登记
targets:
  - {metric: acknowledge, minutes: 120, calendar: 7x24, channels: [email]}
"""


@pytest.fixture
def mailbox(tenant_a: Tenant) -> Mailbox:
    return make_mailbox(tenant_a, "kefu@acme.example", smtp_host="127.0.0.1", smtp_port=2)


@pytest.fixture
def ack_contract(tenant_a: Tenant) -> None:
    calendar_load(text=(EXAMPLES / "calendars" / "7x24.yaml").read_text(encoding="utf-8"))
    sla_policy_load(text=ACK_POLICY)


def acks() -> list[OutboundMail]:
    return list(OutboundMail.objects.filter(kind="ack").order_by("id"))


def test_new_mail_creates_an_email_ticket_with_the_customer(mailbox: Mailbox) -> None:
    result = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    assert result.result == "created"
    ticket = Ticket.objects.get(number=result.ticket)
    assert ticket.client_id == mailbox.client_id
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "咨询：订单没有收到"
    assert "上周下的订单" in ticket.messages.get().body_text
    assert ticket.customer is not None and ticket.customer.emails == ["zhang.san@example.cn"]
    stored = InboundMail.objects.get(pk=result.inbound_id or 0)
    assert bytes(stored.raw) == eml()
    assert stored.ticket == ticket and stored.result == Result.CREATED


def test_the_same_message_twice_is_a_duplicate_and_writes_nothing(mailbox: Mailbox) -> None:
    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    tickets, messages = Ticket.objects.count(), Message.objects.count()
    again = mail_ingest(raw=eml(), source="lmtp", mailbox=mailbox)
    assert again.result == "duplicate"
    assert again.ticket == first.ticket
    assert (Ticket.objects.count(), Message.objects.count()) == (tickets, messages)
    assert InboundMail.objects.count() == 1


def test_without_message_id_the_bytes_decide(mailbox: Mailbox) -> None:
    raw = (FIXTURES / "no_message_id.eml").read_bytes()
    assert mail_ingest(raw=raw, source="file", mailbox=mailbox).result == "created"
    assert mail_ingest(raw=raw, source="file", mailbox=mailbox).result == "duplicate"
    other = raw.replace(b"\r\n\r\n", b"\r\nX-Extra: 1\r\n\r\n", 1)
    assert mail_ingest(raw=other, source="file", mailbox=mailbox).result == "created"


def test_reply_threads_by_ticket_number_in_subject(mailbox: Mailbox) -> None:
    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    reply = eml(subject=f"回复：咨询 [{first.ticket}]", message_id="<m2@example.cn>")
    result = mail_ingest(raw=reply, source="imap", mailbox=mailbox)
    assert result.result == "appended"
    assert result.ticket == first.ticket
    assert Ticket.objects.get(number=first.ticket).messages.count() == 2


def test_reply_threads_by_references_without_number(mailbox: Mailbox) -> None:
    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    reply = eml(
        subject="Re: 咨询",
        message_id="<m3@example.cn>",
        in_reply_to="<unknown@elsewhere>",
        references="<m1@example.cn> <unknown@elsewhere>",
    )
    assert mail_ingest(raw=reply, source="imap", mailbox=mailbox).ticket == first.ticket


def test_a_number_of_another_client_does_not_thread(mailbox: Mailbox, tenant_b: Tenant) -> None:
    from kefu.tickets.services import ticket_create

    for _ in range(3):
        other = ticket_create(client=tenant_b.client, subject="B", body="b", channel="email")
    assert not Ticket.objects.filter(client=mailbox.client, number=other.number).exists()
    result = mail_ingest(
        raw=eml(subject=f"Re: [{other.number}] 你好"), source="imap", mailbox=mailbox
    )
    assert result.result == "created"
    assert other.messages.count() == 1


def test_reply_to_resolved_ticket_reopens_it(mailbox: Mailbox, tenant_a: Tenant) -> None:
    from kefu.tickets.services import ticket_set_status

    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    ticket = Ticket.objects.get(number=first.ticket)
    ticket_set_status(ticket=ticket, actor=tenant_a.agent, status="resolved")
    mail_ingest(
        raw=eml(subject=f"Re: [{first.ticket}]", message_id="<m9@x>"),
        source="imap",
        mailbox=mailbox,
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_auto_reply_is_ignored_and_never_acknowledged(mailbox: Mailbox, ack_contract: None) -> None:
    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    assert len(acks()) == 1
    ooo = eml(
        subject=f"自动回复: [{first.ticket}] 咨询",
        message_id="<ooo@example.cn>",
        extra_headers="Auto-Submitted: auto-replied",
    )
    result = mail_ingest(raw=ooo, source="imap", mailbox=mailbox)
    assert result.result == "ignored"
    assert result.ticket == first.ticket  # linked for the record, no message added
    assert Ticket.objects.get(number=first.ticket).messages.count() == 1
    alone = mail_ingest(
        raw=(FIXTURES / "autoreply_subject_only.eml").read_bytes(), source="imap", mailbox=mailbox
    )
    assert alone.result == "ignored"
    assert len(acks()) == 1
    assert Ticket.objects.filter(client=mailbox.client, channel="email").count() == 2


@pytest.mark.parametrize("name", ["bounce_dsn_postfix.eml", "bounce_plain_chinese.eml"])
def test_bounce_marks_the_address_failing(mailbox: Mailbox, name: str) -> None:
    tickets = Ticket.objects.count()
    result = mail_ingest(raw=(FIXTURES / name).read_bytes(), source="imap", mailbox=mailbox)
    assert result.result == "ignored"
    assert Ticket.objects.count() == tickets
    failing = MailAddressStatus.objects.filter(client=mailbox.client, failing=True)
    assert failing.count() >= 1
    assert not acks()


def test_acknowledgement_when_the_contract_asks(mailbox: Mailbox, ack_contract: None) -> None:
    result = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    (ack,) = acks()
    assert ack.to_address == "zhang.san@example.cn"
    assert ack.ticket.number == result.ticket
    assert ack.in_reply_to == "m1@example.cn"
    assert f"[{result.ticket}]" in ack.subject
    queued = DBTaskResult.objects.filter(task_path__endswith="send_outbound")
    assert [r.args_kwargs["args"] for r in queued] == [[ack.pk]]
    # A reply on the ticket is not a new ticket: no second acknowledgement.
    mail_ingest(
        raw=eml(subject=f"Re: [{result.ticket}]", message_id="<m2@x>"),
        source="imap",
        mailbox=mailbox,
    )
    assert len(acks()) == 1


def test_a_sent_acknowledgement_meets_the_acknowledge_clock_only(
    tenant_a: Tenant, ack_contract: None, smtp_server: SmtpCapture
) -> None:
    """确认登记 is the acknowledgement mail itself, once the mail server took it; the first
    response still waits for an agent."""
    box = make_mailbox(
        tenant_a, "ack@acme.example", smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    ticket = Ticket.objects.get(number=mail_ingest(raw=eml(), source="imap", mailbox=box).ticket)
    clock = SlaClock.objects.get(ticket=ticket, metric="acknowledge")
    assert clock.met_at is None
    (ack,) = acks()
    assert outbound_send(outbound_id=ack.pk) == "sent"
    assert len(smtp_server.mails) == 1
    clock.refresh_from_db()
    ack.refresh_from_db()
    assert clock.status == "met" and clock.met_at == ack.sent_at


def test_no_acknowledgement_without_contract_target(mailbox: Mailbox) -> None:
    assert mail_ingest(raw=eml(), source="imap", mailbox=mailbox).result == "created"
    assert not acks()


def test_acknowledgements_are_rate_limited_per_sender(mailbox: Mailbox, ack_contract: None) -> None:
    for i in range(ACK_PER_HOUR + 3):
        raw = eml(subject=f"第{i}封", message_id=f"<storm{i}@example.cn>")
        assert mail_ingest(raw=raw, source="imap", mailbox=mailbox).result == "created"
    assert len(acks()) == ACK_PER_HOUR
    mail_ingest(
        raw=eml(sender="li.si@example.cn", message_id="<li@example.cn>"),
        source="imap",
        mailbox=mailbox,
    )
    assert len(acks()) == ACK_PER_HOUR + 1


def test_no_acknowledgement_to_a_failing_address_or_noreply(
    mailbox: Mailbox, ack_contract: None
) -> None:
    MailAddressStatus.objects.create(
        client=mailbox.client, address="zhang.san@example.cn", failing=True
    )
    mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    mail_ingest(
        raw=eml(sender="noreply@shop.example", message_id="<n@x>"), source="imap", mailbox=mailbox
    )
    assert not acks()


def test_mail_from_kefus_own_mailbox_is_ignored(mailbox: Mailbox, ack_contract: None) -> None:
    result = mail_ingest(raw=eml(sender="kefu@acme.example"), source="imap", mailbox=mailbox)
    assert result.result == "ignored"
    assert not acks()


def test_unparseable_message_is_quarantined_raw_and_reprocessed_after_a_fix(
    mailbox: Mailbox, admin_user: object
) -> None:
    from kefu.mail.parse import MailParseError

    with mock.patch(
        "kefu.mail.services.parse_message", side_effect=MailParseError("no header block")
    ):
        result = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    assert result.result == "quarantined"
    stored = InboundMail.objects.get(pk=result.inbound_id or 0)
    assert bytes(stored.raw) == eml() and "no header block" in stored.reason
    # Delivered again while quarantined: still one row.
    with mock.patch("kefu.mail.services.parse_message", side_effect=RuntimeError("bug")):
        assert mail_ingest(raw=eml(), source="imap", mailbox=mailbox).result == "duplicate"
    again = mail_reprocess(inbound=stored, actor=admin_user)  # type: ignore[arg-type]
    assert again.result == "created" and again.ticket
    stored.refresh_from_db()
    assert stored.result == Result.CREATED and stored.attempts == 2


def test_a_parser_crash_quarantines_instead_of_dropping(mailbox: Mailbox) -> None:
    with mock.patch("kefu.mail.services.parse_message", side_effect=RuntimeError("boom")):
        result = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    assert result.result == "quarantined"
    assert "RuntimeError" in result.reason


def test_mail_for_no_configured_client_is_quarantined_then_reprocessed(
    tenant_a: Tenant, admin_user: object
) -> None:
    raw = eml(to="kefu@new-client.example")
    result = mail_ingest(raw=raw, source="lmtp", recipients=["kefu@new-client.example"])
    assert result.result == "quarantined"
    orphan = InboundMail.objects.get(pk=result.inbound_id or 0)
    assert orphan.client_id is None and "kefu@new-client.example" in orphan.reason
    assert mail_ingest(raw=raw, source="lmtp", recipients=["kefu@new-client.example"]).result == (
        "duplicate"
    )
    make_mailbox(tenant_a, "kefu@new-client.example")
    done = mail_reprocess(inbound=orphan, actor=admin_user)  # type: ignore[arg-type]
    assert done.result == "created"
    orphan.refresh_from_db()
    assert orphan.client_id == tenant_a.client.pk


def test_attachments_are_kept_and_programs_refused(mailbox: Mailbox) -> None:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "zhang.san@example.cn"
    mail["To"] = "kefu@acme.example"
    mail["Subject"] = "发票"
    mail["Message-ID"] = "<att@example.cn>"
    mail.set_content("附件是发票")
    mail.add_attachment(
        b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="../../发票.pdf"
    )
    mail.add_attachment(
        b"MZ\x90\x00" + b"\x00" * 60,
        maintype="application",
        subtype="octet-stream",
        filename="setup.exe",
    )
    result = mail_ingest(raw=mail.as_bytes(), source="imap", mailbox=mailbox)
    message = Ticket.objects.get(number=result.ticket).messages.get()
    (kept,) = message.attachments.all()
    assert kept.filename == "发票.pdf" and kept.content_type == "application/pdf"
    assert "setup.exe" in message.body_text  # named as not kept


def _with_pictures(n: int, subject: str, message_id: str) -> bytes:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "zhang.san@example.cn"
    mail["To"] = "kefu@acme.example"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content("照片见附件")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
    for i in range(n):
        mail.add_attachment(png, maintype="image", subtype="png", filename=f"照片{i + 1}.png")
    return mail.as_bytes()


def test_the_ticket_message_carries_the_mails_id_and_its_files(
    mailbox: Mailbox, settings: object
) -> None:
    first = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    message = Ticket.objects.get(number=first.ticket).messages.get()
    assert message.channel_ids == {"channel": "email", "message_id": "m1@example.cn"}
    # A reply with more pictures than a message may hold: the first ones are kept, the
    # rest named in the text (the raw mail keeps them all).
    settings.KEFU_MAX_ATTACHMENTS = 3  # type: ignore[attr-defined]
    reply = _with_pictures(5, f"回复：[{first.ticket}]", "<m2@example.cn>")
    result = mail_ingest(raw=reply, source="imap", mailbox=mailbox)
    assert result.result == "appended"
    added = Message.objects.get(channel_ids__message_id="m2@example.cn")
    names = sorted(a.filename for a in added.attachments.all())
    assert names == ["照片1.png", "照片2.png", "照片3.png"]
    assert "照片4.png" in added.body_text and "照片5.png" in added.body_text


def test_cli_ingest_prints_one_json_line_per_file(mailbox: Mailbox, tmp_path: Path) -> None:
    first = tmp_path / "a.eml"
    first.write_bytes(eml())
    out = StringIO()
    call_command(
        "email",
        "ingest",
        "--client",
        "acme",
        str(first),
        str(first),
        str(FIXTURES / "autoreply_auto_submitted.eml"),
        stdout=out,
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["result"] for line in lines] == ["created", "duplicate", "ignored"]
    assert lines[0]["file"] == str(first) and lines[0]["ticket"].startswith("KF-")
    assert lines[1]["ticket"] == lines[0]["ticket"]
    assert InboundMail.objects.filter(source="file").count() == 2


def test_cli_ingest_refuses_unknown_client(tmp_path: Path, db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no client"):
        call_command("email", "ingest", "--client", "NOPE", str(tmp_path / "x.eml"))


def test_escalation_notice_is_mailed_to_the_customer(mailbox: Mailbox, tenant_a: Tenant) -> None:
    """The expected completion time of an escalation reaches an email customer by email."""
    ticket = Ticket.objects.get(
        number=mail_ingest(raw=eml(), source="imap", mailbox=mailbox).ticket
    )
    expected_by = timezone.now() + timedelta(days=2)
    ticket_escalate(
        ticket=ticket,
        actor=tenant_a.agent,
        department=tenant_a.department,
        reason="需要财务部核实退款",
        expected_by=expected_by,
    )
    (notice,) = OutboundMail.objects.filter(ticket=ticket, kind="reply")
    assert notice.to_address == "zhang.san@example.cn"
    assert notice.in_reply_to == "m1@example.cn"
    when = timezone.localtime(expected_by).strftime("%Y-%m-%d %H:%M")
    assert notice.ticket_message is not None and when in notice.ticket_message.body_text


def test_data_subject_requests_cover_the_stored_mail(mailbox: Mailbox, admin_user: User) -> None:
    """The raw mail holds the customer's address, name and signature: the export hands it
    over, and anonymising removes it while the record of its arrival stays."""
    result = mail_ingest(raw=eml(), source="imap", mailbox=mailbox)
    ticket = Ticket.objects.get(number=result.ticket)
    assert ticket.customer is not None
    with zipfile.ZipFile(
        io.BytesIO(customer_export(actor=admin_user, customer=ticket.customer))
    ) as z:
        assert z.read(f"mail/{ticket.number}-{result.inbound_id}.eml") == eml()
    customer_anonymise(actor=admin_user, customer=ticket.customer, reason="客户要求删除")
    stored = InboundMail.objects.get(pk=result.inbound_id or 0)
    assert bytes(stored.raw) == b"" and stored.from_address == "" and stored.subject == ""
    assert stored.result == Result.CREATED and stored.ticket == ticket
