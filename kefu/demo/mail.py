"""The email channel in the demo: 华信's service mailbox and a few mails through the real
ingestion path — a new complaint from an old mail client labelled gb2312 that holds GBK-only
characters (王镕), the customer's reply threading by the number in its subject, an
out-of-office reply (kept, ignored), a Big5 mail from Hong Kong, and a mail for no configured
mailbox (quarantined, for the admin's 邮件 page).

The mailbox has no IMAP or SMTP server: nothing leaves the machine."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from email.utils import format_datetime

from django.utils import timezone

from kefu.contracts.models import Client
from kefu.mail.models import InboundMail, Mailbox
from kefu.mail.services import mail_ingest

ADDRESS = "kefu@huaxin.example.cn"
UNKNOWN = "service@unknown-client.example"
DOMAIN = "demo.kefu.example"


def _word(text: str, charset: str, codec: str) -> str:
    """An RFC 2047 encoded word (base64)."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def _mail(
    *,
    at: datetime,
    sender: tuple[str, str],
    to: str,
    subject: str,
    body: str,
    label: str,
    codec: str,
    mid: str,
    extra: str = "",
) -> bytes:
    name, address = sender
    head = (
        f"From: {_word(name, label, codec)} <{address}>\r\n"
        f"To: {to}\r\n"
        f"Subject: {_word(subject, label, codec)}\r\n"
        f"Date: {format_datetime(at)}\r\n"
        f"Message-ID: <{mid}@{DOMAIN}>\r\n"
        f"{extra}"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={label}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.replace("\n", "\r\n").encode(codec)


def demo_mail(*, client: Client, now: datetime) -> dict[str, int]:
    """Create the mailbox and ingest the sample mails; returns outcomes by result. Safe to
    run again: ingestion is idempotent on the Message-ID."""
    Mailbox.objects.get_or_create(
        address=ADDRESS,
        defaults={"client": client, "from_name": f"{client.name}客服", "acknowledge": False},
    )
    local = timezone.localtime(now)
    first = _mail(
        at=local - timedelta(hours=3),
        sender=("王镕", "wang.rong@163.example"),
        to=ADDRESS,
        subject="投诉：空调安装后漏水",
        body=(
            "您好：\n上周五师傅上门安装的空调，今天发现室内机一直滴水，地板已经泡了。\n"
            "请尽快安排人来处理，我的电话 139 1234 5678。\n\n王镕\n发自我的邮箱"
        ),
        label="gb2312",
        codec="gbk",
        mid="demo-first",
    )
    outcomes: dict[str, int] = {}

    def ingest(raw: bytes, to: str = ADDRESS) -> str:
        # As the LMTP listener delivers: the envelope recipient picks the mailbox.
        result = mail_ingest(raw=raw, source="lmtp", recipients=[to])
        outcomes[result.result] = outcomes.get(result.result, 0) + 1
        return result.ticket

    number = ingest(first)
    ingest(
        _mail(
            at=local - timedelta(hours=1),
            sender=("王镕", "wang.rong@163.example"),
            to=ADDRESS,
            subject=f"回复：投诉：空调安装后漏水 [{number}]",
            body=(
                "补充一下，漏水的是客厅那台，型号 KFR-35GW。明天上午家里有人。\n\n"
                "------------------ 原始邮件 ------------------\n"
                "发件人: 王镕\n主题: 投诉：空调安装后漏水\n\n上周五师傅上门安装的空调……"
            ),
            label="gb2312",
            codec="gbk",
            mid="demo-reply",
            extra=f"In-Reply-To: <demo-first@{DOMAIN}>\r\n",
        )
    )
    ingest(
        _mail(
            at=local - timedelta(minutes=50),
            sender=("王镕", "wang.rong@163.example"),
            to=ADDRESS,
            subject="自动回复：投诉：空调安装后漏水",
            body="您好，我正在休假，12月2日回来后回复您。",
            label="utf-8",
            codec="utf-8",
            mid="demo-autoreply",
            extra="Auto-Submitted: auto-replied\r\n",
        )
    )
    ingest(
        _mail(
            at=local - timedelta(minutes=30),
            sender=("陳嘉欣", "kayan.chan@hk.example"),
            to=ADDRESS,
            subject="查詢：保養合約續期",
            body="你好，我想查詢保養合約點樣續期，同埋費用係幾多？唔該晒。",
            label="big5",
            codec="big5hkscs",
            mid="demo-big5",
        )
    )
    ingest(
        _mail(
            at=local - timedelta(minutes=10),
            sender=("李四", "li.si@example.cn"),
            to=UNKNOWN,
            subject="咨询发票",
            body="请问发票什么时候寄出？",
            label="utf-8",
            codec="utf-8",
            mid="demo-nowhere",
        ),
        UNKNOWN,
    )
    return outcomes


def reset() -> None:
    """The demo's quarantined mail has no client, so the client-owned sweep misses it."""
    InboundMail.objects.filter(client__isnull=True, message_id__endswith=f"@{DOMAIN}").delete()
