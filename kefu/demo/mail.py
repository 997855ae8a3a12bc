"""The email channel in the demo: 华信's service mailbox and a few mails through the real
ingestion path — a new complaint from an old mail client labelled gb2312 that holds GBK-only
characters (王镕), the customer's reply threading by the number in its subject, an
out-of-office reply (kept, ignored), a Big5 mail from Hong Kong, and a mail for no configured
mailbox (quarantined, for the admin's 邮件 page).

Each demo client's mailbox sends through the file transport (kefu.mail.outbound): replies
are written as .eml files under the var directory and count as sent; nothing leaves the
machine."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from django.utils import timezone

from kefu.contracts.models import Client
from kefu.mail.models import FILE_TRANSPORT, InboundMail, Mailbox
from kefu.mail.services import mail_ingest

ADDRESS = "kefu@huaxin.example.cn"
UNKNOWN = "service@unknown-client.example"
DOMAIN = "demo.kefu.example"


def _word(text: str, charset: str, codec: str) -> str:
    """An RFC 2047 encoded word (base64)."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


WANG = ("王镕", "wang.rong@163.example")


@dataclass(frozen=True)
class Sample:
    """One demo mail. ``subject`` may name ``{number}``: the ticket of the first mail."""

    minutes_ago: int
    sender: tuple[str, str]
    subject: str
    body: str
    label: str  # the charset the mail claims
    codec: str  # the codec its bytes are really in
    mid: str
    to: str = ADDRESS
    extra: str = ""


SAMPLES = (
    Sample(
        180,
        WANG,
        "投诉：空调安装后漏水",
        "您好：\n上周五师傅上门安装的空调，今天发现室内机一直滴水，地板已经泡了。\n"
        "请尽快安排人来处理，我的电话 139 1234 5678。\n\n王镕\n发自我的邮箱",
        "gb2312",
        "gbk",
        "demo-first",
    ),
    Sample(
        60,
        WANG,
        "回复：投诉：空调安装后漏水 [{number}]",
        "补充一下，漏水的是客厅那台，型号 KFR-35GW。明天上午家里有人。\n\n"
        "------------------ 原始邮件 ------------------\n"
        "发件人: 王镕\n主题: 投诉：空调安装后漏水\n\n上周五师傅上门安装的空调……",
        "gb2312",
        "gbk",
        "demo-reply",
        extra=f"In-Reply-To: <demo-first@{DOMAIN}>\r\n",
    ),
    Sample(
        50,
        WANG,
        "自动回复：投诉：空调安装后漏水",
        "您好，我正在休假，12月2日回来后回复您。",
        "utf-8",
        "utf-8",
        "demo-autoreply",
        extra="Auto-Submitted: auto-replied\r\n",
    ),
    Sample(
        30,
        ("陳嘉欣", "kayan.chan@hk.example"),
        "查詢：保養合約續期",
        "你好，我想查詢保養合約點樣續期，同埋費用係幾多？唔該晒。",
        "big5",
        "big5hkscs",
        "demo-big5",
    ),
    Sample(
        10,
        ("李四", "li.si@example.cn"),
        "咨询发票",
        "请问发票什么时候寄出？",
        "utf-8",
        "utf-8",
        "demo-nowhere",
        to=UNKNOWN,
    ),
)


def _raw(sample: Sample, at: datetime, number: str) -> bytes:
    name, address = sample.sender
    subject = sample.subject.format(number=number)
    head = (
        f"From: {_word(name, sample.label, sample.codec)} <{address}>\r\n"
        f"To: {sample.to}\r\n"
        f"Subject: {_word(subject, sample.label, sample.codec)}\r\n"
        f"Date: {format_datetime(at)}\r\n"
        f"Message-ID: <{sample.mid}@{DOMAIN}>\r\n"
        f"{sample.extra}"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={sample.label}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + sample.body.replace("\n", "\r\n").encode(sample.codec)


def demo_mailbox(*, client: Client) -> Mailbox:
    """The client's service mailbox, sending through the file transport (华信's is the one
    the sample mails arrive at)."""
    address = ADDRESS if client.code == "HUAXIN" else f"kefu@{client.code.lower()}.example.cn"
    mailbox, _created = Mailbox.objects.get_or_create(
        address=address,
        defaults={
            "client": client,
            "from_name": f"{client.name}客服",
            "acknowledge": False,
            "smtp_host": FILE_TRANSPORT,
        },
    )
    return mailbox


def demo_mail(*, client: Client, now: datetime) -> dict[str, int]:
    """Ingest the sample mails as the LMTP listener delivers them (the envelope recipient
    picks the mailbox, :func:`demo_mailbox`); returns outcomes by result. Safe to run
    again: ingestion is idempotent on the Message-ID."""
    demo_mailbox(client=client)
    local = timezone.localtime(now)
    outcomes: dict[str, int] = {}
    number = ""
    for sample in SAMPLES:
        raw = _raw(sample, local - timedelta(minutes=sample.minutes_ago), number)
        result = mail_ingest(raw=raw, source="lmtp", recipients=[sample.to])
        outcomes[result.result] = outcomes.get(result.result, 0) + 1
        number = number or result.ticket
    return outcomes


def reset() -> None:
    """The demo's quarantined mail has no client, so the client-owned sweep misses it."""
    InboundMail.objects.filter(client__isnull=True, message_id__endswith=f"@{DOMAIN}").delete()
