"""Folding quoted history and signatures out of what the customer wrote now."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.mail.quoting import split_quoted

# (what the client produced, the first line of the folded part or None for "nothing folded")
CASES: list[tuple[str, str, str | None]] = [
    (
        "outlook english",
        "Thanks, that works.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n",
        "-----Original Message-----",
    ),
    (
        "outlook chinese 原始邮件",
        "好的，谢谢。\n\n-----原始邮件-----\n发件人: 客服中心\n发送时间: 2026年11月3日\n",
        "-----原始邮件-----",
    ),
    (
        "outlook 2007 邮件原件",
        "收到。\n-----邮件原件-----\n发件人: 客服中心\n",
        "-----邮件原件-----",
    ),
    (
        "outlook header block without separator",
        "好的\n\n发件人: 客服中心 <support@kefu.example>\n发送时间: 2026年11月3日 10:00\n"
        "收件人: 张三\n主题: 回复: 发票\n\n旧内容\n",
        "发件人: 客服中心 <support@kefu.example>",
    ),
    (
        "outlook web underscores",
        "OK\n\n________________________________\nFrom: Support <s@kefu.example>\n"
        "Sent: Tuesday, November 3, 2026 10:00 AM\nTo: Zhang San\nSubject: Invoice\n",
        "________________________________",
    ),
    (
        "outlook bold header from html",
        "好\n\n*发件人:* 客服中心\n*发送时间:* 2026年11月3日\n*主题:* 发票\n",
        "*发件人:* 客服中心",
    ),
    (
        "traditional outlook",
        "謝謝\n\n寄件者: 客服中心\n寄件日期: 2026年11月3日\n收件者: 陳大文\n主旨: 維修\n",
        "寄件者: 客服中心",
    ),
    (
        "foxmail",
        '已收到\n\n------------------ 原始邮件 ------------------\n发件人: "客服"<s@x>;\n',
        "------------------ 原始邮件 ------------------",
    ),
    (
        "foxmail english",
        "ok\n------------------ Original ------------------\nFrom: s@x\n",
        "------------------ Original ------------------",
    ),
    (
        "qq mail with literal nbsp",
        "谢谢！\n\n------------------&nbsp;原始邮件&nbsp;------------------\n发件人: a\n",
        "------------------&nbsp;原始邮件&nbsp;------------------",
    ),
    (
        "gmail english",
        "Got it.\n\nOn Tue, Nov 3, 2026 at 10:00 AM Support <s@kefu.example> wrote:\n> hi\n",
        "On Tue, Nov 3, 2026 at 10:00 AM Support <s@kefu.example> wrote:",
    ),
    (
        "gmail english, attribution wrapped",
        "Got it.\n\nOn Tue, Nov 3, 2026 at 10:00 AM Support <\ns@kefu.example> wrote:\n> hi\n",
        "On Tue, Nov 3, 2026 at 10:00 AM Support <",
    ),
    (
        "gmail chinese",
        "好的\n\n客服中心 <s@kefu.example> 于2026年11月3日周二 10:00写道：\n> 您好\n",
        "客服中心 <s@kefu.example> 于2026年11月3日周二 10:00写道：",
    ),
    (
        "iphone chinese",
        "收到\n\n在 2026年11月3日，10:02，客服中心 <s@kefu.example> 写道：\n\n> 您好\n",
        "在 2026年11月3日，10:02，客服中心 <s@kefu.example> 写道：",
    ),
    (
        "trailing > quote without attribution",
        "同意退款方案。\n\n> 我们建议全额退款\n> 请确认\n",
        "> 我们建议全额退款",
    ),
    (
        "inline reply keeps everything",
        "> 订单号？\n20261103\n> 收货地址？\n北京市朝阳区\n",
        None,
    ),
    (
        "dash dash space signature",
        "请尽快处理。\n\n-- \n张三\n某某科技有限公司\n",
        "-- ",
    ),
    (
        "iphone signature then quote",
        "已签收。\n\n发自我的iPhone\n\n> 在 2026年11月5日 写道：\n",
        "发自我的iPhone",
    ),
    ("sent from my iphone", "Thanks\n\nSent from my iPhone\n", "Sent from my iPhone"),
    ("huawei signature", "好的\n\n发自我的华为手机\n", "发自我的华为手机"),
    ("netease mail master", "请查收\n\n来自网易邮箱大师\n", "来自网易邮箱大师"),
    (
        "gmail forward",
        "请看下面\n\n---------- Forwarded message ---------\nFrom: 孙丽\n",
        "---------- Forwarded message ---------",
    ),
    (
        "kefu forward header",
        "看下这个\n\n---------- 转发的邮件 ----------\n发件人: 顺达物流\n",
        "---------- 转发的邮件 ----------",
    ),
    ("apple forward", "FYI\n\nBegin forwarded message:\n\nFrom: a\n", "Begin forwarded message:"),
    ("plain message", "您好，我的订单还没有发货，请帮忙查一下。\n谢谢\n", None),
    (
        "a line that only mentions 来自 stays",
        "我是来自华为手机售后的用户，手机屏幕坏了，想问问保修的事情。\n",
        None,
    ),
    ("from: in prose stays", "From: 北京\nTo: 上海\n运费多少？\n", None),
    ("a bare forward is not folded", "-----Original Message-----\nFrom: a\nSent: b\n", None),
    ("only a signature", "发自我的iPhone\n", None),
    ("windows line ends", "好的\r\n\r\n-----原始邮件-----\r\n发件人: a\r\n", "-----原始邮件-----"),
    ("empty", "", None),
]


@pytest.mark.parametrize("case, text, folded_from", CASES, ids=[c[0] for c in CASES])
def test_split_quoted(case: str, text: str, folded_from: str | None) -> None:
    new, quoted = split_quoted(text)
    assert new + quoted == text
    if folded_from is None:
        assert (new, quoted) == (text, "")
    else:
        assert quoted.startswith(folded_from), quoted
        assert new.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("a好>-— \n\r:：发件人写道FromSent")), max_size=300))
def test_nothing_is_ever_dropped(text: str) -> None:
    new, quoted = split_quoted(text)
    assert new + quoted == text
