"""The email parser against the fixture corpus (fixtures/README.md says what each file is)."""

from __future__ import annotations

import base64
import contextlib
import email
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.mail.charsets import codec_for, decode_bytes
from kefu.mail.parse import (
    MailParseError,
    ParsedMail,
    parse_message,
    split_quoted,
    ticket_numbers_in,
)
from kefu.mail.tests.conftest import PARSE_FIXTURES

CST = timezone(timedelta(hours=8))


def load(name: str) -> bytes:
    return (PARSE_FIXTURES / name).read_bytes()


def parse(name: str, **kwargs: Any) -> ParsedMail:
    return parse_message(load(name), **kwargs)


# name: expected fields; "text" lists snippets the body must contain, "defects" snippets the
# defects must contain; "attachments" is [(filename, size)]; anything left out is not checked.
CORPUS: dict[str, dict[str, Any]] = {
    "gb2312_gbk_chars_base64.eml": {
        "subject": "净水器安装一直没人联系（王镕）",
        "from": ("王镕", "wangrong@example.cn"),
        "to": ["support@kefu.example"],
        "date": datetime(2026, 11, 3, 9, 12, 31, tzinfo=CST),
        "message_id": "000a01dc4c8e$5f3a2b10$1dae8130$@example.cn",
        "text": ["我是王镕", "安装师傅李喆说配件缺货", "北京堃元科技有限公司"],
        "tickets": [],
        "in_reply_to": [],
        "defects": [],
    },
    "outlook_reply_gb2312_8bit.eml": {
        "subject": "答复: [KF-2026-000123] 发票抬头开错了",
        "from": ("张喆", "zhangzhe@example.com"),
        "cc": ["caiwu@example.com"],
        "text": ["上海喆睿贸易有限公司", "-----邮件原件-----", "请提供正确的发票抬头和税号"],
        "html": ["上海喆睿贸易有限公司"],
        "tickets": ["KF-2026-000123"],
        "in_reply_to": ["kefu.KF-2026-000123.1@kefu.example"],
        "references": ["kefu.KF-2026-000123.0@kefu.example", "kefu.KF-2026-000123.1@kefu.example"],
        "auto_reply": False,
        "defects": [],
    },
    "gb18030_four_byte.eml": {
        "subject": "会员积分没有到账（𠮷野家）",
        "from": ("林㛃", "linjie@example.net"),
        "text": ["我叫林㛃", "“𠮷野家”门店"],
        "defects": [],
    },
    "big5_hkscs_qp.eml": {
        "subject": "冷氣機又壞咗",
        "from": ("陳大文", "chantaiman@example.com.hk"),
        "text": ["又壞咗，啲師傅話要等零件", "再派人嚟？"],
        "tickets": [],  # HK-20261028-031 in the body is the customer's own number
        "defects": [],
    },
    "qq_reply_utf8_base64.eml": {
        "subject": "回复：[KF-2026-000123] 退款进度",
        "from": ("李明", "123456789@qq.com"),
        "text": ["已经收到退款了，谢谢！", "原路退回"],
        "tickets": ["KF-2026-000123"],
        "in_reply_to": ["kefu.KF-2026-000123.2@kefu.example"],
        "references": ["kefu.KF-2026-000123.0@kefu.example", "kefu.KF-2026-000123.2@kefu.example"],
        "defects": [],
    },
    "foxmail_reply_mislabelled_subject.eml": {
        "subject": "Re: [KF-2026-000126] 保修咨询",
        "from": ("赵磊", "zhaolei@example.org"),
        "text": ["型号是 KF-200", "赵先生您好"],
        "tickets": ["KF-2026-000126"],
        "in_reply_to": ["kefu.KF-2026-000126.0@kefu.example"],
        "defects": ["subject: declared utf-8, read as gb18030"],
    },
    "iphone_reply_utf8_qp.eml": {
        "subject": "Re: [KF-2026-000125] 快递没收到",
        "from": ("周小燕", "zhouxy@example.com"),
        "message_id": "8E2F1A3B-4C5D-4E6F-9A0B-1C2D3E4F5A6B@example.com",
        "text": ["快递单号是 SF1234567890123", "发自我的iPhone", "> 周女士您好"],
        "tickets": ["KF-2026-000125"],
        "in_reply_to": ["kefu.KF-2026-000125.1@kefu.example"],
        "defects": [],
    },
    "forwarded_rfc822.eml": {
        "subject": "Fwd: 您的包裹已签收 [KF-2026-000125]",
        "text": [
            "麻烦你们看一下这封通知",
            "---------- 转发的邮件 ----------\n发件人: 顺达物流 <notice@shunda-logistics.example>",
            "您的包裹 SF1234567890123 已于 11月4日 17:55 由快递柜签收",
        ],
        "tickets": ["KF-2026-000125"],
        "attachments": [("您的包裹已签收.eml", None), ("签收单.pdf", 75)],
        "defects": [],
    },
    "forwarded_inline_163.eml": {
        "subject": "转发：投诉：门店服务态度",
        "text": ["请转给负责人处理", "---------- Forwarded message ---------", "店员态度恶劣"],
        "defects": [],
    },
    "autoreply_auto_submitted.eml": {
        "subject": "自动回复: [KF-2026-000123] 发票抬头开错了",
        "auto_reply": True,
        "bounce": False,
        "tickets": ["KF-2026-000123"],
        "in_reply_to": ["kefu.KF-2026-000123.1@kefu.example"],
    },
    "autoreply_subject_only.eml": {
        "subject": "自动回复：[KF-2026-000124] 您的工单已受理",
        "from": ("", "liming@example.net"),
        "auto_reply": True,
        "bounce": False,
        "tickets": ["KF-2026-000124"],
    },
    "bounce_dsn_postfix.eml": {
        "subject": "Undelivered Mail Returned to Sender",
        "from": ("Mail Delivery System", "mailer-daemon@mx.kefu.example"),
        "auto_reply": True,
        "bounce": True,
        "bounced_recipients": ["wangwei@example.cn"],
        "tickets": [],
    },
    "bounce_plain_chinese.eml": {
        "subject": "系统退信",
        "from": ("系统退信", "postmaster@mail.example.net"),
        "text": ["收件人：liming@example.net"],
        "auto_reply": True,  # no person wrote it: no acknowledgement goes back
        "bounce": True,
        "bounced_recipients": ["liming@example.net"],
    },
    "no_charset_gbk.eml": {
        "subject": "积分兑换的礼品寄错了",
        "from": ("刘镕", "liurong@example.cn"),
        "text": ["收到的却是保温杯", "收件人刘镕"],
        "defects": [
            "subject: 8-bit header, read as gb18030",
            "text/plain: declared none, read as gb18030",
        ],
    },
    "malformed_mime.eml": {
        "subject": "截图在附件",
        "date": None,
        "text": ["APP 登录时一直提示“网络异常”"],
        "attachments": [("screenshot.png", None)],
        "defects": [
            "unknown transfer encoding '8bits'",
            "damaged base64",
            "CloseBoundaryNotFoundDefect",
        ],
    },
    "html_only_inline_image.eml": {
        "subject": "付款页面报错",
        "text": ["付款页面一直报错，截图如下：", "订单号：20261108-5521 & 金额 ￥299"],
        "html": ['<img src="cid:ii_m3k2j1h0@example.com" alt="报错截图"', "订单详情"],
        "attachments": [("image.png", 80)],
        "defects": [],
    },
    "no_message_id.eml": {
        "subject": "营业时间咨询",
        "message_id": "",
        "date": None,
        "text": ["双十一期间门店营业到几点"],
        "defects": ["date: unreadable"],
    },
    "attachment_filenames.eml": {
        "subject": "补充材料 [KF-2026-000128]",
        "from": ("王镕", "wangrong@example.cn"),
        "tickets": ["KF-2026-000128"],
        "attachments": [
            ("合同（王镕）.pdf", 1209),
            ("发票明细.xlsx", 2048),
            ("收货照片.jpg", 3004),
            ("报价单（2026年11月）.docx", 504),
        ],
    },
}


def test_every_fixture_is_in_the_table() -> None:
    on_disk = {path.name for path in PARSE_FIXTURES.glob("*.eml")}
    assert on_disk == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus(name: str) -> None:
    expected = CORPUS[name]
    mail = parse(name)
    if "subject" in expected:
        assert mail.subject == expected["subject"]
    if "from" in expected:
        assert (mail.from_name, mail.from_address) == expected["from"]
    for key in ("to", "cc", "date", "message_id", "in_reply_to", "references"):
        if key in expected:
            assert getattr(mail, key) == expected[key], key
    for snippet in expected.get("text", []):
        assert snippet in mail.text
    for snippet in expected.get("html", []):
        assert snippet in mail.html
    assert mail.auto_reply is expected.get("auto_reply", False)
    assert mail.bounce is expected.get("bounce", False)
    assert mail.bounced_recipients == expected.get("bounced_recipients", [])
    if "tickets" in expected:
        assert mail.ticket_numbers == expected["tickets"]
    if "attachments" in expected:
        got = [(a.filename, a.size) for a in mail.attachments]
        assert [name for name, _size in got] == [name for name, _size in expected["attachments"]]
        for (_name, size), (_n, want) in zip(got, expected["attachments"], strict=True):
            if want is not None:
                assert size == want
    if "defects" in expected:
        if expected["defects"] == []:
            assert mail.defects == []
        for snippet in expected["defects"]:
            assert any(snippet in defect for defect in mail.defects), mail.defects
    assert mail.content_hash == hashlib.sha256(load(name)).hexdigest()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_no_replacement_character_anywhere(name: str) -> None:
    mail = parse(name)
    shown = [mail.subject, mail.from_name, mail.text, mail.html]
    shown += [a.filename for a in mail.attachments]
    assert not any("\ufffd" in value for value in shown)
    assert all(address == address.lower() for address in [mail.from_address, *mail.to, *mail.cc])


@pytest.mark.parametrize(
    "name, lost",
    [
        ("gb2312_gbk_chars_base64.eml", "王镕"),
        ("big5_hkscs_qp.eml", "壞咗"),
        ("no_charset_gbk.eml", "刘镕"),
    ],
)
def test_python_default_decoding_loses_characters_kefu_keeps(name: str, lost: str) -> None:
    raw = load(name)
    stdlib = email.message_from_bytes(raw, policy=policy.default)
    stdlib_text = stdlib.get_body().get_content()  # type: ignore[union-attr]
    assert "\ufffd" in stdlib_text + str(stdlib["subject"])
    assert lost not in stdlib_text
    mail = parse_message(raw)
    assert lost in mail.text
    assert "\ufffd" not in mail.text + mail.subject


def test_text_part_is_preferred_and_html_is_sanitised() -> None:
    mail = parse("outlook_reply_gb2312_8bit.eml")
    assert "-----邮件原件-----" in mail.text  # only the text/plain part has this line
    assert "MsoNormal" not in mail.html and "style=" not in mail.html
    assert "<b>发件人:</b>" in mail.html


def test_html_only_message_blocks_remote_images_and_scripts() -> None:
    mail = parse("html_only_inline_image.eml")
    assert "track.example-mail.com" not in mail.html
    assert mail.remote_images == 1
    assert "<script" not in mail.html and "alert" not in mail.html
    assert "javascript:" not in mail.html
    assert 'href="https://shop.example.com/order/5521" rel="noopener' in mail.html
    [image] = mail.attachments
    assert image.inline and image.content_id == "ii_m3k2j1h0@example.com"
    assert image.content is not None and image.content.startswith(b"\x89PNG")
    assert "微软雅黑" not in mail.text and "alert" not in mail.text


def test_forwarded_message_is_kept_as_eml_and_readable() -> None:
    mail = parse("forwarded_rfc822.eml")
    eml, pdf = mail.attachments
    assert eml.content_type == "message/rfc822" and not eml.inline
    assert eml.content is not None
    inner = parse_message(eml.content)
    assert inner.subject == "您的包裹已签收"
    assert [a.filename for a in inner.attachments] == ["签收单.pdf"]
    assert pdf.content is not None and pdf.content.startswith(b"%PDF-1.4")
    new, quoted = split_quoted(mail.text)
    assert new.strip() == "物流说已经签收了，但我确实没有拿到，麻烦你们看一下这封通知。"
    assert quoted.startswith("---------- 转发的邮件 ----------")


@pytest.mark.parametrize(
    "name, new_ends_with, quoted_starts_with",
    [
        ("outlook_reply_gb2312_8bit.eml", "采购部\n\n", "-----邮件原件-----"),
        ("qq_reply_utf8_base64.eml", "谢谢！\n\n", "------------------&nbsp;原始邮件"),
        ("foxmail_reply_mislabelled_subject.eml", "发票已拍照附上。\n\n", "--\n赵磊"),
        ("iphone_reply_utf8_qp.eml", "但我没有收到。\n\n", "发自我的iPhone"),
        ("forwarded_inline_163.eml", "请转给负责人处理。\n\n", "来自网易邮箱大师"),
    ],
)
def test_corpus_replies_fold_their_history(
    name: str, new_ends_with: str, quoted_starts_with: str
) -> None:
    text = parse(name).text
    new, quoted = split_quoted(text)
    assert new + quoted == text
    assert new.endswith(new_ends_with)
    assert quoted.startswith(quoted_starts_with)


def test_huge_attachment_is_listed_without_its_content(huge_attachment_eml: Path) -> None:
    mail = parse_message(huge_attachment_eml.read_bytes())
    assert "洗衣机故障的视频在附件里" in mail.text
    [video] = mail.attachments
    assert video.filename == "故障视频.mp4"
    assert video.size == 25 * 1024 * 1024
    assert video.oversize and video.content is None
    assert any("over the limit" in defect for defect in mail.defects)


def test_attachment_limit_is_the_callers() -> None:
    mail = parse("attachment_filenames.eml", max_attachment_bytes=2048)
    kept = {a.filename: a.content is not None for a in mail.attachments}
    assert kept == {
        "合同（王镕）.pdf": True,
        "发票明细.xlsx": True,  # exactly at the limit
        "收货照片.jpg": False,
        "报价单（2026年11月）.docx": True,
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n  ",
        b"GET / HTTP/1.1\r\nHost: kefu.example\r\n\r\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"just some text without any header\nsecond line\n",
    ],
)
def test_what_is_not_an_email_raises(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_message(raw)


def test_headers_only_message_is_read() -> None:
    mail = parse_message(b"From: a@example.com\r\nSubject: =?utf-8?B?5L2g5aW9?=\r\n")
    assert (mail.subject, mail.from_address, mail.text, mail.attachments) == (
        "你好",
        "a@example.com",
        "",
        [],
    )


@pytest.mark.parametrize(
    "date, expected, defect",
    [
        ("Tue, 3 Nov 2026 09:12:31 +0800", datetime(2026, 11, 3, 1, 12, 31, tzinfo=UTC), ""),
        ("3 Nov 2026 09:12 GMT", datetime(2026, 11, 3, 9, 12, tzinfo=UTC), ""),
        ("Tue, 3 Nov 2026 09:12:31 -0000", datetime(2026, 11, 3, 9, 12, 31, tzinfo=UTC), "UTC"),
        ("Tue, 3 Nov 2026 09:12:31", datetime(2026, 11, 3, 9, 12, 31, tzinfo=UTC), "UTC"),
        ("2026年11月3日", None, "unreadable"),
        ("Tue, 31 Feb 2026 09:12:31 +0800", None, "out of range"),
    ],
)
def test_dates(date: str, expected: datetime | None, defect: str) -> None:
    mail = parse_message(f"From: a@example.com\r\nDate: {date}\r\n\r\nhi\r\n".encode())
    assert mail.date == expected
    if mail.date is not None:
        assert mail.date.tzinfo is not None
    assert any(defect in d for d in mail.defects) if defect else mail.defects == []


@pytest.mark.parametrize(
    "header, expected",
    [
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: auto-generated; owner-email=x@example.com", True),
        ("Auto-Submitted: no", False),
        ("X-Autoreply: yes", True),
        ("X-Autorespond: Out of office", True),
        ("Precedence: bulk", True),
        ("Precedence: auto_reply", True),
        ("Precedence: list", True),
        ("Precedence: first-class", False),
        ("X-Auto-Response-Suppress: All", False),  # a request to others, not a marker
        ("Content-Type: multipart/report; report-type=disposition-notification", True),
    ],
)
def test_auto_reply_headers(header: str, expected: bool) -> None:
    raw = f"From: a@example.com\r\nSubject: hi\r\n{header}\r\n\r\nbody\r\n".encode()
    assert parse_message(raw).auto_reply is expected


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("自动回复: 关于发票", True),
        ("自动回复：关于发票", True),
        ("【自动回复】您好", True),
        ("自動回覆：訂單查詢", True),
        ("Automatic reply: invoice", True),
        ("Auto Reply: invoice", True),
        ("Out of Office: invoice", True),
        ("Out of Office AutoReply: invoice", True),
        ("不在办公室: 发票", True),
        ("休假：11月3日-11月10日", True),
        ("休假中：请联系同事", True),
        ("关于自动回复设置的问题", False),
        ("自动回复功能怎么关闭", False),
        ("休假期间订单能发货吗", False),
        ("Re: [KF-2026-000123] 发票", False),
    ],
)
def test_auto_reply_subjects(subject: str, expected: bool) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: =?utf-8?B?"
        + base64.b64encode(subject.encode())
        + b"?=\r\n\r\nbody\r\n"
    )
    assert parse_message(raw).auto_reply is expected


def test_delayed_dsn_is_not_a_bounce() -> None:
    raw = load("bounce_dsn_postfix.eml").replace(b"Action: failed", b"Action: delayed")
    raw = raw.replace(b"Status: 5.1.1", b"Status: 4.4.1").replace(
        b"Undelivered Mail Returned to Sender", b"Delayed Mail (still being retried)"
    )
    mail = parse_message(raw)
    assert not mail.bounce and mail.bounced_recipients == []
    assert mail.auto_reply  # still noise: no acknowledgement goes back


def test_a_customer_writing_about_a_bounce_is_not_one() -> None:
    raw = "From: zhang@example.cn\r\nSubject: 系统退信是怎么回事\r\n\r\n我收到了退信\r\n"
    mail = parse_message(raw.encode("utf-8"))
    assert not mail.bounce and not mail.auto_reply


@pytest.mark.parametrize(
    "subject, numbers",
    [
        ("回复: [KF-2026-000123] 发票", ["KF-2026-000123"]),
        ("Re: 【ACME-2026-000042】 投诉", ["ACME-2026-000042"]),
        (
            "关于 kf-2026-000123 和 KF-2026-000124、KF-2026-000123",
            ["KF-2026-000123", "KF-2026-000124"],
        ),
        ("订单 20261103-8817 HK-20261028-031", []),
        ("KF-2026-0001234 too long", []),
        ("XKF2026-000123", []),
    ],
)
def test_ticket_numbers(subject: str, numbers: list[str]) -> None:
    assert ticket_numbers_in(subject) == numbers


@pytest.mark.parametrize(
    "label, codec",
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ('"gbk"', "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("euc-cn", "gb18030"),
        ("GB_2312-80", "gb18030"),
        ("csGB2312", "gb18030"),
        ("big5", "big5hkscs"),
        ("Big5-HKSCS", "big5hkscs"),
        ("cp950", "big5hkscs"),
        ("utf8", "utf-8"),
        ("UTF-8*zh-cn", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("ks_c_5601-1987", "cp949"),
        ("base64", None),
        ("rot13", None),
        ("x-unknown", None),
        ("", None),
    ],
)
def test_charset_labels(label: str, codec: str | None) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    "data, label, text, defect",
    [
        ("王镕".encode("gbk"), "gb2312", "王镕", ""),
        ("啲嘢".encode("big5hkscs"), "big5", "啲嘢", ""),
        ("王镕".encode("gbk"), "utf-8", "王镕", "declared utf-8, read as gb18030"),
        ("你好".encode(), "gb2312", "你好", "declared gb2312, read as utf-8"),
        ("你好，世界".encode("gbk"), "iso-8859-1", "你好，世界", "read as gb18030"),
        ("Müller Straße".encode("latin-1"), "iso-8859-1", "Müller Straße", ""),
        ("你好".encode(), "", "你好", "declared none, read as utf-8"),
        ("客服中心".encode("gbk"), None, "客服中心", "read as gb18030"),
        ("\ufeff你好".encode(), "utf-8", "你好", ""),
        (b"hello", "x-unknown-charset", "hello", ""),
        ("订单".encode(), "x-unknown-charset", "订单", "declared x-unknown-charset, read as utf-8"),
        ("你好".encode(), "gbk", "你好", "declared gbk, read as utf-8"),
    ],
)
def test_decode_bytes(data: bytes, label: str | None, text: str, defect: str) -> None:
    decoded = decode_bytes(data, label)
    assert decoded.text == text
    assert defect in decoded.defect if defect else decoded.defect == ""


def test_encoded_word_split_inside_a_character_and_mislabelled() -> None:
    raw = (
        b"From: =?gb2312?B?zfU=?= =?gbk?B?6UY=?= <WANG@Example.CN>\r\n"
        b"Subject: =?utf-8?Q?=E5=8F=91?= =?utf-8?Q?=E7=A5?= =?utf-8?Q?=A8?= ok\r\n\r\n"
    )
    mail = parse_message(raw)
    assert (mail.from_name, mail.from_address) == ("王镕", "wang@example.cn")
    assert mail.subject == "发票 ok"


_header_names = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
     "Return-Path", "MIME-Version"]
)  # fmt: skip
_header_values = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            b"=?gb2312?B?zfXpRg==?=",
            b"=?utf-8?Q?=E5=8F?=",
            b"=?x?B?!!?=",
            b"multipart/mixed; boundary=b",
            b"multipart/report; report-type=delivery-status; boundary=b",
            b"message/rfc822",
            b"text/html; charset=gb2312",
            b"base64",
            b"quoted-printable",
            b"attachment; filename*=gb2312''%D6%D0",
            b"attachment; filename*0*=utf-8''%E4; filename*1*=%B8%AD",
            b"<a@b> <c@d>",
            b"\xcd\xf5 <a@b.c>",
        ]
    ),
)
_body_lines = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [
                b"--b",
                b"--b--",
                b"Content-Type: message/rfc822",
                b"",
                b"Action: failed",
                b"Final-Recipient: rfc822; x@y.z",
                b"Content-Type: message/delivery-status",
                b"Content-Transfer-Encoding: base64",
                b"5L2g5aW9===",
                b"=E4=BD",
            ]
        ),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_anything_else(raw: bytes) -> None:
    with contextlib.suppress(MailParseError):
        parse_message(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_header_names, _header_values), min_size=1, max_size=8), _body_lines)
def test_mail_shaped_garbage_never_raises_anything_else(
    headers: list[tuple[str, bytes]], body: list[bytes]
) -> None:
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    raw += b"\r\n" + b"\r\n".join(body)
    try:
        mail = parse_message(raw)
    except MailParseError:
        return
    assert mail.from_address == mail.from_address.lower()


def test_cid_images_point_at_the_mail_apps_urls() -> None:
    from kefu.mail.htmltext import rewrite_cids

    mail = parse("html_only_inline_image.eml")
    urls = {"ii_m3k2j1h0@example.com": "/mail/attachments/7/?inline=1&v=2"}
    html = rewrite_cids(mail.html, urls.get)
    assert 'src="/mail/attachments/7/?inline=1&amp;v=2"' in html
    assert "cid:" not in html


def test_html_charset_from_meta_tag() -> None:
    html = '<html><head><meta charset="gbk"></head><body><p>王镕您好</p></body></html>'
    raw = b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n" + html.encode("gbk") + b"\r\n"
    mail = parse_message(raw)
    assert mail.text == "王镕您好"
    assert "<p>王镕您好</p>" in mail.html
