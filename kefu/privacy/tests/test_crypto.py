"""The pure encryption module: round trips, tampering, wrong keys, rotation, blind indexes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.privacy.crypto import (
    DecryptionError,
    KeyConfigError,
    KeyRing,
    generate_index_key,
    generate_key_line,
    is_token,
    normalise_email,
    normalise_name,
    normalise_phone,
    token_key_id,
)

KEY_A = generate_key_line("a")
KEY_B = generate_key_line("b")
INDEX = generate_index_key()
CTX = "tickets_customer.name|1"


def ring(*lines: str, index: str = INDEX) -> KeyRing:
    return KeyRing.parse(",".join(lines), index)


@pytest.mark.parametrize(
    "plain",
    ["王小明", "13800138000", "wang@acme.cn", "", "a" * 5000, '["138", "139"]', "🙂 emoji"],
)
def test_round_trip(plain: str) -> None:
    keys = ring(KEY_A)
    token = keys.encrypt(plain, context=CTX)
    assert token.startswith("v1:a:")
    assert is_token(token)
    assert plain not in token.split(":", 2)[2] or plain == ""
    assert keys.decrypt(token, context=CTX) == plain


@given(st.text(max_size=300), st.text(min_size=1, max_size=40))
def test_round_trip_any_text(plain: str, context: str) -> None:
    keys = ring(KEY_A)
    assert keys.decrypt(keys.encrypt(plain, context=context), context=context) == plain


def test_same_value_encrypts_differently_each_time() -> None:
    keys = ring(KEY_A)
    assert keys.encrypt("13800138000", context=CTX) != keys.encrypt("13800138000", context=CTX)


def _flip(token: str, position: int) -> str:
    head, data = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    raw[position] ^= 0x01
    return f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


@pytest.mark.parametrize(
    "position", [0, 11, 12, 20, -1], ids=["nonce", "nonce-end", "ct", "ct2", "tag"]
)
def test_a_modified_ciphertext_fails(position: int) -> None:
    keys = ring(KEY_A)
    token = keys.encrypt("王小明", context=CTX)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        keys.decrypt(_flip(token, position), context=CTX)


@pytest.mark.parametrize(
    "other_context",
    ["tickets_customer.phones|1", "tickets_customer.name|2", "other_table.name|1"],
    ids=["other column", "other client", "other table"],
)
def test_a_value_moved_elsewhere_fails(other_context: str) -> None:
    keys = ring(KEY_A)
    token = keys.encrypt("王小明", context=CTX)
    with pytest.raises(DecryptionError, match="moved from another column or client"):
        keys.decrypt(token, context=other_context)


def test_a_wrong_key_under_the_same_id_fails_clearly() -> None:
    token = ring(KEY_A).encrypt("王小明", context=CTX)
    impostor = ring(generate_key_line("a"))
    with pytest.raises(DecryptionError, match="under key 'a'"):
        impostor.decrypt(token, context=CTX)


def test_an_unknown_key_id_names_the_key() -> None:
    token = ring(KEY_A).encrypt("王小明", context=CTX)
    with pytest.raises(DecryptionError, match=r"key 'a', which is not configured \(keys: b\)"):
        ring(KEY_B).decrypt(token, context=CTX)


def test_relabelled_key_id_fails() -> None:
    keys = ring(KEY_A, KEY_B)
    token = keys.encrypt("王小明", context=CTX)
    with pytest.raises(DecryptionError):
        keys.decrypt("v1:b:" + token.split(":", 2)[2], context=CTX)


@pytest.mark.parametrize(
    "token", ["王小明", "v1:a:", "v1:a:AAAA", "v2:a:AAAA", "v1:A:AAAA"], ids=str
)
def test_not_a_token_or_truncated(token: str) -> None:
    with pytest.raises(DecryptionError):
        ring(KEY_A).decrypt(token, context=CTX)


def test_rotation_old_values_decrypt_new_values_use_the_first_key() -> None:
    old = ring(KEY_A)
    token_a = old.encrypt("13800138000", context=CTX)
    rotated = ring(KEY_B, KEY_A)
    assert rotated.needs_rotation(token_a)
    assert rotated.decrypt(token_a, context=CTX) == "13800138000"
    token_b = rotated.encrypt(rotated.decrypt(token_a, context=CTX), context=CTX)
    assert token_key_id(token_b) == "b"
    assert not rotated.needs_rotation(token_b)
    assert ring(KEY_B).decrypt(token_b, context=CTX) == "13800138000"


def test_blind_index_survives_key_rotation() -> None:
    assert ring(KEY_A).phone_index("13800138000") == ring(KEY_B, KEY_A).phone_index("13800138000")


@pytest.mark.parametrize(
    ("field_keys", "index", "error"),
    [
        ("", INDEX, "no field encryption key"),
        (KEY_A, "", "no index key"),
        ("a", INDEX, "expected id:base64key"),
        ("a:!!!", INDEX, "not valid base64"),
        ("a:" + base64.urlsafe_b64encode(b"short").decode(), INDEX, "must be 32 bytes"),
        (f"{KEY_A},{KEY_A}", INDEX, "appears twice"),
        ("A:" + KEY_A.split(":")[1], INDEX, "lower-case"),
        (KEY_A, KEY_A.split(":")[1], "must differ"),
        (KEY_A, "c2hvcnQ", "index key: must be 32 bytes"),
    ],
    ids=[
        "none",
        "no index key",
        "no colon",
        "bad base64",
        "short",
        "duplicate",
        "upper case id",
        "index = field key",
        "short index",
    ],
)
def test_bad_configuration_is_refused_with_a_reason(
    field_keys: str, index: str, error: str
) -> None:
    with pytest.raises(KeyConfigError, match=error):
        KeyRing.parse(field_keys, index)


def test_standard_base64_from_openssl_is_accepted() -> None:
    raw = bytes(range(250, 256)) + bytes(26)
    standard = base64.b64encode(raw).decode()
    assert "+" in standard or "/" in standard
    keys = KeyRing.parse(f"a:{standard}", INDEX)
    assert keys.keys["a"] == raw


def test_first_key_is_current_and_spaces_are_ignored() -> None:
    keys = KeyRing.parse(f" {KEY_B} , {KEY_A} ,", INDEX)
    assert keys.current_id == "b"
    assert set(keys.keys) == {"a", "b"}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(+86)13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("010-6552 8888", "01065528888"),
        ("86-10-65528888", "861065528888"),
        ("86123", "86123"),
        ("无", ""),
    ],
)
def test_normalise_phone(raw: str, normalised: str) -> None:
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Wang@ACME.cn", "wang@acme.cn"),
        ("  wang@acme.cn \n", "wang@acme.cn"),
        ("ｗａｎｇ＠acme.cn", "wang@acme.cn"),
    ],
)
def test_normalise_email(raw: str, normalised: str) -> None:
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("王小明", "王小明"), (" 王  小明 ", "王 小明"), ("John SMITH", "john smith")],
)
def test_normalise_name(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


def test_blind_index_matches_equivalent_forms_only() -> None:
    keys = ring(KEY_A)
    assert keys.phone_index("+86 138-0013-8000") == keys.phone_index("13800138000")
    assert keys.phone_index("13800138001") != keys.phone_index("13800138000")
    assert keys.email_index("WANG@acme.cn") == keys.email_index("wang@acme.cn")
    assert len(keys.phone_index("13800138000")) == 32
    assert "13800138000" not in keys.phone_index("13800138000")


def test_blind_index_of_nothing_is_empty_so_blanks_never_match() -> None:
    keys = ring(KEY_A)
    assert keys.phone_index("") == keys.phone_index("n/a") == keys.email_index(" ") == ""


def test_blind_index_depends_on_the_index_key_and_the_kind() -> None:
    keys = ring(KEY_A)
    assert keys.phone_index("13800138000") != ring(KEY_A, index=generate_index_key()).phone_index(
        "13800138000"
    )
    assert keys.blind_index("phone", "x@y.cn") != keys.blind_index("email", "x@y.cn")


def test_generated_key_line_parses() -> None:
    line = generate_key_line()
    assert KeyRing.parse(line, INDEX).current_id == line.split(":")[0]
    with pytest.raises(KeyConfigError):
        generate_key_line("Bad Id")
