"""Detection and masking of personal information in text (kefu.privacy.pii, no Django)."""

from __future__ import annotations

from datetime import date, datetime

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
    ("11010519491231002Ｘ", [("id_number", "11010519491231002Ｘ")]),  # full-width X
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
    ("１３８－００１３－８０００", [("mobile", "１３８－００１３－８０００")]),  # full-width dash
    ("１３８\u3000００１３\u3000８０００", [("mobile", "１３８\u3000００１３\u3000８０００")]),
    ("138—0013—8000", [("mobile", "138—0013—8000")]),  # the dash a Chinese IME types
    ("+86 138 0013 8000", [("mobile", "+86 138 0013 8000")]),
    ("0086 138-0013-8000", [("mobile", "0086 138-0013-8000")]),
    ("(+86)13800138000", [("mobile", "13800138000")]),
    ("138 00138000", [("mobile", "138 00138000")]),
    # fixed lines: 3-digit area codes (8-digit numbers), 4-digit ones (7 or 8)
    ("010-62345678", [("fixed_line", "010-62345678")]),
    ("(0755)8765432", [("fixed_line", "(0755)8765432")]),
    ("（０２１）６２３４５６７８", [("fixed_line", "（０２１）６２３４５６７８")]),
    ("0571-87654321转8", [("fixed_line", "0571-87654321")]),
    ("010 62345678", [("fixed_line", "010 62345678")]),
    ("010 6234 5678", [("fixed_line", "010 6234 5678")]),
    ("01062345678", [("fixed_line", "01062345678")]),
    ("电话（010）6234 5678。", [("fixed_line", "（010）6234 5678")]),
    ("(010) 6234-5678", [("fixed_line", "(010) 6234-5678")]),
    ("020-8765-4321", [("fixed_line", "020-8765-4321")]),
    ("0755 876 5432", [("fixed_line", "0755 876 5432")]),
    ("075587654321", [("fixed_line", "075587654321")]),
    ("07558765432", [("fixed_line", "07558765432")]),
    ("0755—8765—4321", [("fixed_line", "0755—8765—4321")]),
    ("０７５５－８７６５４３２１", [("fixed_line", "０７５５－８７６５４３２１")]),
    # extensions stay outside the match
    ("010-62345678-801", [("fixed_line", "010-62345678")]),
    ("010-62345678 ext. 801", [("fixed_line", "010-62345678")]),
    ("(010)62345678分机801", [("fixed_line", "(010)62345678")]),
    ("0755 8765 4321 转 3", [("fixed_line", "0755 8765 4321")]),
    # +86 forms drop the area code's 0 (or keep it in brackets)
    ("+86 10 6234 5678", [("fixed_line", "+86 10 6234 5678")]),
    ("+86-10-62345678", [("fixed_line", "+86-10-62345678")]),
    ("+86 (0)755 8765 4321", [("fixed_line", "+86 (0)755 8765 4321")]),
    ("0086-21-62345678", [("fixed_line", "0086-21-62345678")]),
    ("86-755-87654321", [("fixed_line", "86-755-87654321")]),
    ("＋８６ ２１ ６２３４ ５６７８", [("fixed_line", "＋８６ ２１ ６２３４ ５６７８")]),
    # not landlines
    ("010-12345678", []),  # local numbers never start with 1
    ("0106234567", []),  # no separator: 010 takes exactly 8 digits
    ("010623456789", []),
    ("0755876543", []),  # 0755 with 6 digits
    ("订单 02012345678", []),
    ("订单号 0123456789012", []),  # no area code 012, and too long
    ("金额 0.01062345678 元", []),  # the decimals of an amount
    ("01062345678.5", []),
    ("2026-01-05 09:30", []),
    ("2026年12月05日 09:30-12:00", []),
    ("2026-0312-2345", []),
    ("¥1,380.50 共 3 件", []),
    ("邮编 100080", []),
    ("单号 JD0106234567801", []),
    ("SF1062345678", []),
    ("10.62.34.56", []),
    ("客服热线 400-800-8888", []),  # a company's service number, not a person's
    ("请拨 95588 或 4008008888", []),
    # e-mail
    ("邮箱 zhang.san@qq.com 。", [("email", "zhang.san@qq.com")]),
    ("li_lei+kefu@mail.example.com.cn", [("email", "li_lei+kefu@mail.example.com.cn")]),
    ("写信到ｗａｎｇ＠１２６．ｃｏｍ", []),  # full-width letters are not addresses
    ("z***@qq.com", []),  # already masked
    ("name@localhost", []),
    ("wang＠qq．com", [("email", "wang＠qq．com")]),  # full-width @ and dot
    ("@qq.com", []),  # no local part
    ("写信到 @qq.com 吧", []),
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
    ("010 62345678", "010 ****5678"),
    ("01062345678", "010****5678"),
    ("电话（010）6234 5678。", "电话(010)****5678。"),
    ("0755 876 5432", "0755 ****432"),
    ("+86 10 6234 5678", "+86 10 ****5678"),
    ("010-62345678-801", "010-****5678-801"),
    ("wang＠qq．com", "w***@qq.com"),
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
    (pii.mask_phone, "1234", "****"),  # 4–7 digits that are no known form
    (pii.mask_phone, "12345", "****5"),
    (pii.mask_phone, "123456", "****56"),
    (pii.mask_phone, "1234567", "***4567"),
    (pii.mask_phone, "（010）6234 5678", "(010)****5678"),
    (pii.mask_phone, "01062345678", "010****5678"),
    (pii.mask_phone, "+86 (0)755 876 5432", "+86 (0)755 ****432"),
    (pii.mask_phone, "", "****"),
    (pii.mask_id_number, "11010519491231002X", "110***********002X"),
    (pii.mask_id_number, "110105194912310021", "110***********0021"),
    (pii.mask_card, "6222 0212 3456 7894", "622202******7894"),
    (pii.mask_email, "zhang.san@qq.com", "z***@qq.com"),
    (pii.mask_email, "a@163.com", "a***@163.com"),
    (pii.mask_email, "not an address", "***"),
    (pii.mask_email, "@qq.com", "***"),
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


@pytest.mark.parametrize(
    ("birth_date", "why"),
    [
        ("19490230", "30 February"),
        ("19491301", "month 13"),
        ("19491200", "day 0"),
        ("18991231", "before 1900"),
    ],
)
def test_an_impossible_birth_date_is_no_id_number_whatever_its_check_digit(
    birth_date: str, why: str
) -> None:
    first17 = "110105" + birth_date + "002"
    number = first17 + oracle_id_check(first17)
    assert pii.find(f"身份证 {number}") == [], why
    assert not pii.is_valid_id_number(number)


# Landlines as people write them, built from their parts so the expected match and mask
# are known: (area code without its 0, local number).
big_city = st.tuples(
    st.sampled_from(["10", *[f"2{d}" for d in range(10)]]),
    st.from_regex(r"[2-9][0-9]{7}", fullmatch=True),
)
small_city = st.tuples(
    st.from_regex(r"[3-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True),
)
AREA_FORMS = [
    "0{a}-",
    "0{a} ",
    "0{a}",
    "(0{a})",
    "(0{a}) ",
    "（0{a}）",
    "0{a}－",
    "+86 {a} ",
    "+86-{a}-",
    "0086 {a} ",
    "+86 (0){a} ",
    "＋86 {a} ",
]


@given(
    st.one_of(big_city, small_city),
    st.sampled_from(AREA_FORMS),
    st.sampled_from(["", " ", "-"]),
    filler,
    filler,
)
def test_every_landline_written_the_usual_ways_is_found_and_masked(
    parts: tuple[str, str], form: str, split: str, before: str, after: str
) -> None:
    area, local = parts
    if form == "0{a}" and split:
        split = ""  # a bare number is one run of digits
    prefix = form.format(a=area)
    number = prefix + local[:-4] + split + local[-4:]
    text = before + number + after
    assert [(m.kind, m.value) for m in pii.find(text)] == [("fixed_line", number)]
    keep = 4 if len(local) == 8 else 3
    masked = pii.normalise(prefix) + "*" * (len(local) - keep) + local[-keep:]
    assert pii.mask_text(text) == before + masked + after


# Years people write (strftime does not pad a year before 1000 to four digits).
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31))


@given(
    st.one_of(
        moments.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
        moments.map(lambda t: t.strftime("%Y%m%d %H%M")),
        moments.map(lambda t: t.strftime("%Y年%m月%d日 %H:%M")),
        moments.map(lambda t: t.strftime("%Y/%m/%d")),
        st.decimals(0, 10_000_000, places=2).map(lambda x: f"¥{x:,}"),
        st.decimals(0, 10_000_000, places=4).map(str),
        st.from_regex(r"[A-Z]{1,3}[0-9]{8,24}", fullmatch=True),
        st.from_regex(r"[0-9]{13,15}|[0-9]{20,24}", fullmatch=True),
    ),
    filler,
    filler,
)
def test_dates_amounts_and_order_numbers_are_not_personal(
    value: str, before: str, after: str
) -> None:
    text = before + value + after
    assert pii.find(text) == []
    assert pii.mask_text(text) == text
