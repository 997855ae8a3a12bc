"""Detection and masking of personal information in text (kefu.privacy.pii, no Django)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.privacy import pii

# (text, [(kind, value)]) — what find() must report, in order.
FIND_CASES: list[tuple[str, list[tuple[str, str]]]] = [
    # mobiles
    ("13800138000", [("mobile", "13800138000")]),
    ("手机13800138000，谢谢", [("mobile", "13800138000")]),
    ("电话：138 0013 8000", [("mobile", "138 0013 8000")]),
    ("电话：138-0013-8000。", [("mobile", "138-0013-8000")]),
    ("+86 13800138000", [("mobile", "+86 13800138000")]),
    ("+86-138-0013-8000", [("mobile", "+86-138-0013-8000")]),
    ("008613800138000", [("mobile", "008613800138000")]),
    ("8613800138000", [("mobile", "8613800138000")]),
    ("＋８６ １３８００１３８０００", [("mobile", "＋８６ １３８００１３８０００")]),
    ("回拨１３９１２３４５６７８即可", [("mobile", "１３９１２３４５６７８")]),
    ("19912345678 和 16612345678", [("mobile", "19912345678"), ("mobile", "16612345678")]),
    ("12812345678", []),  # 12x is no mobile prefix
    ("1380013800", []),  # ten digits
    ("订单号 2026113013800138000", []),  # inside a longer digit run
    ("138001380001", []),
    ("SN13800138000", []),  # part of a serial
    ("13800138000abc", []),
    # resident ID numbers
    ("11010519491231002X", [("id_number", "11010519491231002X")]),
    ("身份证号11010519491231002x。", [("id_number", "11010519491231002x")]),
    ("440304199001011233", [("id_number", "440304199001011233")]),
    ("身份证 320102 19851122 0013", [("id_number", "320102 19851122 0013")]),
    (
        "４４０３０４１９９００１０１１２３３",
        [("id_number", "４４０３０４１９９００１０１１２３３")],
    ),
    ("110105194912310021", []),  # wrong check digit: an order number, not an ID
    ("440304199001011234", []),
    ("110105194902301234", []),  # 30 February, even with its right check digit
    ("1101051949123100211", []),  # 19 digits
    ("A11010519491231002X", []),
    # bank cards (Luhn)
    ("6222021234567894", [("card", "6222021234567894")]),
    ("卡号 6222 0212 3456 7894 收到", [("card", "6222 0212 3456 7894")]),
    ("6222-0212-3456-7894", [("card", "6222-0212-3456-7894")]),
    ("6228480012345678903", [("card", "6228480012345678903")]),
    ("4024007154321003", [("card", "4024007154321003")]),
    ("５５５５５５５５５５５５４４４４", [("card", "５５５５５５５５５５５５４４４４")]),
    ("6222021234567895", []),  # Luhn fails
    ("62220212345678941", []),  # Luhn fails on the whole run
    ("6222 0212 3456 7894 5678 9", []),  # part of a longer grouped run
    ("1234567890123452", []),  # passes Luhn but no card starts with 1
    # fixed lines
    ("010-62345678", [("fixed_line", "010-62345678")]),
    ("(0755)8765432", [("fixed_line", "(0755)8765432")]),
    ("（０２１）６２３４５６７８", [("fixed_line", "（０２１）６２３４５６７８")]),
    ("0571-87654321转8", [("fixed_line", "0571-87654321")]),
    ("01062345678", []),  # no dash or parentheses: too ambiguous
    ("010-12345678", []),  # local numbers never start with 1
    # e-mail
    ("邮箱 zhang.san@qq.com 。", [("email", "zhang.san@qq.com")]),
    ("li_lei+kefu@mail.example.com.cn", [("email", "li_lei+kefu@mail.example.com.cn")]),
    ("写信到ｗａｎｇ＠１２６．ｃｏｍ", []),  # full-width letters are not addresses
    ("z***@qq.com", []),  # already masked
    ("name@localhost", []),
    # several kinds, in order
    (
        "王先生 13800138000，身份证 11010519491231002X，卡 6222021234567894，a@b.cn",
        [
            ("mobile", "13800138000"),
            ("id_number", "11010519491231002X"),
            ("card", "6222021234567894"),
            ("email", "a@b.cn"),
        ],
    ),
    ("没有个人信息的一句话，订单 A-2026-11-30 共 3 件。", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find(text: str, expected: list[tuple[str, str]]) -> None:
    found = pii.find(text)
    assert [(m.kind, m.value) for m in found] == expected
    for m in found:
        assert text[m.start : m.end] == m.value


MASK_TEXT_CASES = [
    ("手机13800138000，谢谢", "手机138****8000，谢谢"),
    ("+86 138-0013-8000", "+86 138****8000"),
    ("8613800138000", "86 138****8000"),
    ("１３８００１３８０００", "138****8000"),
    ("身份证11010519491231002X", "身份证110***********002X"),
    ("身份证 320102 19851122 0013", "身份证 320***********0013"),
    ("卡号 6222 0212 3456 7894 收到", "卡号 622202******7894 收到"),
    ("6228480012345678903", "622848*********8903"),
    ("010-62345678", "010-****5678"),
    ("(0755)8765432", "(0755)****432"),
    ("邮箱 zhang.san@qq.com 。", "邮箱 z***@qq.com 。"),
    ("订单号 2026113013800138000", "订单号 2026113013800138000"),
    ("110105194912310021", "110105194912310021"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), MASK_TEXT_CASES)
def test_mask_text(text: str, expected: str) -> None:
    assert pii.mask_text(text) == expected


FIELD_CASES = [
    (pii.mask_phone, "13800138000", "138****8000"),
    (pii.mask_phone, "+86 139-1234-5678", "+86 139****5678"),
    (pii.mask_phone, "010-62345678", "010-****5678"),
    (pii.mask_phone, "400-800-8888", "******8888"),  # unrecognised: last four only
    (pii.mask_phone, "12345", "****5"),
    (pii.mask_phone, "", "****"),
    (pii.mask_id_number, "11010519491231002X", "110***********002X"),
    (pii.mask_id_number, "110105194912310021", "110***********0021"),
    (pii.mask_card, "6222 0212 3456 7894", "622202******7894"),
    (pii.mask_email, "zhang.san@qq.com", "z***@qq.com"),
    (pii.mask_email, "a@163.com", "a***@163.com"),
    (pii.mask_email, "not an address", "***"),
    (pii.mask_name, "张三", "张*"),
    (pii.mask_name, "王小明", "王**"),
    (pii.mask_name, "欧阳娜娜", "欧阳**"),
    (pii.mask_name, "欧阳修", "欧阳*"),
    (pii.mask_name, "欧阳", "欧*"),
    (pii.mask_name, "张", "张*"),
    (pii.mask_name, "John Smith", "J***"),
    (pii.mask_name, "  ", ""),
]


@pytest.mark.parametrize(("mask", "value", "expected"), FIELD_CASES)
def test_mask_field(mask: object, value: str, expected: str) -> None:
    assert callable(mask)
    assert mask(value) == expected


# The oracle: the check digit from its definition in GB 11643 / ISO 7064 MOD 11-2 (weights
# 2^(17-i) mod 11), not from the weight table the module uses.
def oracle_id_check(first17: str) -> str:
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def oracle_luhn_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        doubled = int(ch) * (2 if i % 2 == 0 else 1)
        total += sum(int(c) for c in str(doubled))
    return str((10 - total % 10) % 10)


region = st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)
birth = st.dates(min_value=date(1900, 1, 1)).map(lambda d: d.strftime("%Y%m%d"))
sequence = st.from_regex(r"[0-9]{3}", fullmatch=True)
filler = st.text(alphabet="你好请问我的订单到了吗，。！ 谢谢", max_size=12)


@given(region, birth, sequence, filler, filler)
def test_every_valid_id_number_is_found_and_masked(
    reg: str, born: str, seq: str, before: str, after: str
) -> None:
    first17 = reg + born + seq
    number = first17 + oracle_id_check(first17)
    text = before + number + after
    assert [(m.kind, m.value) for m in pii.find(text)] == [("id_number", number)]
    masked = pii.mask_text(text)
    assert masked == before + number[:3] + "*" * 11 + number[-4:] + after


@given(region, birth, sequence, st.sampled_from("0123456789X"))
def test_a_wrong_check_character_is_never_an_id_number(
    reg: str, born: str, seq: str, check: str
) -> None:
    first17 = reg + born + seq
    if check == oracle_id_check(first17):
        check = "0" if check != "0" else "1"
    assert all(m.kind != "id_number" for m in pii.find(first17 + check))


@given(st.from_regex(r"62[0-9]{13,16}", fullmatch=True), filler, filler)
def test_every_luhn_valid_card_is_found(payload: str, before: str, after: str) -> None:
    number = payload + oracle_luhn_digit(payload)
    text = before + number + after
    found = pii.find(text)
    assert len(found) == 1 and found[0].value == number
    # An 18-digit run may read as an ID number too; either way its middle is masked.
    assert number not in pii.mask_text(text)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), filler, filler)
def test_mask_text_never_leaves_a_mobiles_middle_digits(
    number: str, before: str, after: str
) -> None:
    masked = pii.mask_text(before + number + after)
    assert masked == before + number[:3] + "****" + number[-4:] + after


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.integers(1, 5))
def test_a_mobile_inside_a_longer_digit_run_is_not_found(number: str, extra: int) -> None:
    assert pii.find("9" * extra + number) == []
    assert pii.find(number + "0" * extra) == []


@settings(max_examples=300)
@given(st.text())
def test_mask_text_changes_only_what_find_reports(text: str) -> None:
    masked = pii.mask_text(text)
    if not pii.find(text):
        assert masked == text
    # Masked output holds no detectable number any more: masking is idempotent.
    assert pii.mask_text(masked) == masked
