import pytest

from kefu.mail import headers


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"Message-ID: <abc@x.cn>\r\n\r\nhi", "abc@x.cn"),
        (b"Message-Id:   <abc@x.cn> (comment)\r\n\r\nhi", "abc@x.cn"),
        (b"Message-ID: bare@x.cn\r\n\r\nhi", "bare@x.cn"),
        (b"Message-ID:\r\n <folded@x.cn>\r\n\r\nhi", "folded@x.cn"),
        (b"Message-ID: has space@x\r\n\r\nhi", None),
        (b"Subject: none\r\n\r\nhi", None),
        (b"\xff\xfe garbage without headers", None),
    ],
)
def test_dedup_key_is_the_message_id_or_the_content_hash(raw: bytes, key: str | None) -> None:
    expected = key or f"sha256:{headers.content_hash(raw)}"
    assert headers.dedup_key(raw, headers.message_id_of(raw)) == expected


def test_same_bytes_same_key_different_bytes_different_key() -> None:
    assert headers.dedup_key(b"a\r\n\r\nx", "") == headers.dedup_key(b"a\r\n\r\nx", "")
    assert headers.dedup_key(b"a\r\n\r\nx", "") != headers.dedup_key(b"a\r\n\r\ny", "")


@pytest.mark.parametrize(
    ("subject", "reply"),
    [
        ("订单没有收到", "Re: 订单没有收到 [KF-2026-000123]"),
        ("Re: 订单没有收到", "Re: 订单没有收到 [KF-2026-000123]"),
        ("回复：RE: Fwd: 订单", "Re: 订单 [KF-2026-000123]"),
        ("Re: 订单 [KF-2026-000123]", "Re: 订单 [KF-2026-000123]"),
        ("答复: [KF-2026-000123] 订单", "Re: 订单 [KF-2026-000123]"),
        ("", "Re: [KF-2026-000123]"),
    ],
)
def test_reply_subject_has_one_re_and_the_number_once(subject: str, reply: str) -> None:
    assert headers.reply_subject(subject, "KF-2026-000123") == reply


@pytest.mark.parametrize(
    ("previous", "parent", "chain"),
    [
        ([], "a@x", ["a@x"]),
        (["a@x", "b@x"], "c@x", ["a@x", "b@x", "c@x"]),
        (["a@x", "b@x"], "b@x", ["a@x", "b@x"]),
        ([f"{i}@x" for i in range(30)], "p@x", ["0@x", *[f"{i}@x" for i in range(12, 30)], "p@x"]),
    ],
)
def test_references_keep_root_and_parent(
    previous: list[str], parent: str, chain: list[str]
) -> None:
    refs = headers.references(previous, parent)
    assert refs == chain
    assert len(refs) <= headers.MAX_REFERENCES


@pytest.mark.parametrize(
    ("address", "noreply"),
    [
        ("MAILER-DAEMON@mx.example.cn", True),
        ("postmaster@qq.com", True),
        ("noreply@shop.cn", True),
        ("no-reply-notify@shop.cn", True),
        ("zhang.san@example.cn", False),
        ("norah@example.cn", False),
    ],
)
def test_noreply_addresses(address: str, noreply: bool) -> None:
    assert headers.is_noreply(address) is noreply
