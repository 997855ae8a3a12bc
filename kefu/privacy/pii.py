"""Personal information in text: detection and conventional masking. Imports no Django.

Recognised kinds (``Match.kind``):

- ``mobile``: mainland mobile numbers ``1[3-9]x xxxx xxxx``, optionally prefixed ``+86``,
  ``0086`` or ``86``, grouped 3-4-4 with single spaces or dashes.
- ``id_number``: 18-character resident identity numbers (GB 11643): a valid birth date and
  the ISO 7064 MOD 11-2 check character (``X`` for 10).
- ``card``: bank card numbers of 16–19 digits starting 3–6 that pass the Luhn check,
  ungrouped or in groups of four.
- ``fixed_line``: landlines as people write them: a 3-digit area code (``010``, ``02x``)
  or a 4-digit one (``0xxx``), then 7–8 digits (a space or dash may split off the last
  four): ``010-62345678``, ``010 6234 5678``, ``(0755)8765432``, ``（010）6234 5678``, and with
  no separator at all when the length fits (``01062345678``: 3-digit code + 8 digits,
  4-digit code + 7–8); ``+86``/``0086``/``86-`` forms drop the 0 (``+86 10 6234 5678``,
  ``+86 (0)755 8765 4321``). An extension (``转801``, ``-801``, ``ext. 801``) stays outside
  the match: it is not personal.
- ``email``: e-mail addresses.

Full-width digits and punctuation (``１３８…``, ``＋``, ``－``, ``（）``, ``＠``, ``．``, the
full-width space) and the dashes a Chinese input method types (``—``, ``–``) count as their
ASCII forms. A number that is part of a longer run of digits or latin letters (an order
number, a serial) or of a decimal (an amount) is not a match. Offsets refer to the text as
given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

MOBILE = "mobile"
ID_NUMBER = "id_number"
CARD = "card"
FIXED_LINE = "fixed_line"
EMAIL = "email"

# Earlier kinds win when two candidates overlap (an 18-digit ID number may pass Luhn too).
KINDS = (ID_NUMBER, CARD, MOBILE, FIXED_LINE, EMAIL)

# Every replacement is one code point for one, so offsets into the normalised text are
# offsets into the original.
_FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "＋": "+",
        "－": "-",
        "（": "(",
        "）": ")",
        "＠": "@",
        "．": ".",
        "\u3000": " ",
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015", "-"),
        "Ｘ": "X",
        "ｘ": "x",
    }
)

_NOT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_AFTER = r"(?![0-9A-Za-z])"
_SEP = r"[ -]?"

# Area codes: 010 and 02x have 8-digit local numbers, 0[3-9]xx have 7 or 8.
_BIG_CITY = r"(?:10|2\d)"
_AREA = r"(?:10|2\d|[3-9]\d\d)"
_FIXED_AREA = (
    r"(?:(?:(?:\+|00)86[ -]?|86-)(?:\(0\)[ -]?)?0?" + _AREA + r"[ -]?"  # +86 10 …
    r"|\(0" + _AREA + r"\)[ -]?"  # (010) …
    r"|0" + _AREA + r"[ -])"  # 010-… / 010 …
)
_FIXED_LOCAL = r"[2-9]\d{2,3}[ -]?\d{4}"
# Without any separator only the exact lengths count: 010 + 8 digits, 0755 + 7 or 8.
_FIXED_BARE = r"0" + _BIG_CITY + r"[2-9]\d{7}|0[3-9]\d\d[2-9]\d{6,7}"

_PATTERNS: dict[str, re.Pattern[str]] = {
    MOBILE: re.compile(
        _NOT_BEFORE + r"(?:(?:\+|00)?86[ -]?)?(1[3-9]\d[ -]?\d{4}[ -]?\d{4})" + _NOT_AFTER
    ),
    ID_NUMBER: re.compile(_NOT_BEFORE + r"([1-9]\d{5} ?\d{8} ?\d{3}[\dXx])" + _NOT_AFTER),
    # Digits after a separator would make the number part of a longer grouped run.
    CARD: re.compile(
        _NOT_BEFORE
        + r"(?<!\d[ -])([3-6]\d{3}(?:"
        + _SEP
        + r"\d{4}){3}(?:"
        + _SEP
        + r"\d{1,3})?)(?![ -]?\d)"
        + _NOT_AFTER
    ),
    FIXED_LINE: re.compile(
        _NOT_BEFORE + r"(?<!\d\.)(" + _FIXED_AREA + _FIXED_LOCAL + r"|" + _FIXED_BARE + r")"
        r"(?!\.\d)" + _NOT_AFTER
    ),
    EMAIL: re.compile(
        r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
        r"(?![A-Za-z0-9-])"
    ),
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Compound surnames kept whole when a name is masked (欧阳娜娜 → 欧阳**).
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "太史",
        "端木",
        "上官",
        "司马",
        "东方",
        "独孤",
        "南宫",
        "万俟",
        "闻人",
        "夏侯",
        "诸葛",
        "尉迟",
        "公羊",
        "赫连",
        "澹台",
        "皇甫",
        "宗政",
        "濮阳",
        "公冶",
        "太叔",
        "申屠",
        "公孙",
        "慕容",
        "仲孙",
        "钟离",
        "长孙",
        "宇文",
        "司徒",
        "鲜于",
        "司空",
        "令狐",
        "西门",
        "呼延",
        "百里",
        "东郭",
        "拓跋",
        "完颜",
        "轩辕",
    }
)


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    value: str


def normalise(text: str) -> str:
    """Full-width digits and punctuation as ASCII; same length as ``text``."""
    return text.translate(_FULL_WIDTH)


def _digits(text: str) -> str:
    return "".join(c for c in normalise(text) if c.isascii() and c.isdigit())


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """18 characters, a real birth date (1900 or later) and the right check character."""
    raw = normalise(value).replace(" ", "").upper()
    if len(raw) != 18 or not raw[:17].isdigit() or not (raw[17].isdigit() or raw[17] == "X"):
        return False
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return False
    return born.year >= 1900 and id_check_char(raw[:17]) == raw[17]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _valid(kind: str, value: str) -> bool:
    if kind == ID_NUMBER:
        return is_valid_id_number(value)
    if kind == CARD:
        digits = _digits(value)
        return 16 <= len(digits) <= 19 and luhn_ok(digits)
    return True


def find(text: str) -> list[Match]:
    """Every piece of personal information in ``text``, in order, never overlapping."""
    norm = normalise(text)
    taken: list[Match] = []
    for kind in KINDS:
        for m in _PATTERNS[kind].finditer(norm):
            start, end = m.span()
            value = text[start:end]
            if not _valid(kind, value):
                continue
            if any(start < t.end and t.start < end for t in taken):
                continue
            taken.append(Match(kind, start, end, value))
    return sorted(taken, key=lambda m: m.start)


def mask_mobile(value: str) -> str:
    """``+86 138-0013-8000`` → ``+86 138****8000``: the country prefix, then 3 + 4 digits."""
    norm = normalise(value)
    m = re.search(r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}$", norm)
    if m is None:
        return mask_phone(value)
    digits = _digits(m.group(0))
    prefix = norm[: m.start()]
    if prefix and prefix[-1] not in " -":
        prefix += " "
    return f"{prefix}{digits[:3]}****{digits[-4:]}"


_FIXED_PARTS = re.compile(r"(" + _FIXED_AREA + r"|0" + _AREA + r")(" + _FIXED_LOCAL + r")")


def mask_fixed_line(value: str) -> str:
    """``010-62345678`` → ``010-****5678``, ``(0755)8765432`` → ``(0755)****432``,
    ``（010）6234 5678`` → ``(010)****5678``: the area code as written (ASCII), the last four
    digits of an 8-digit number and three of a 7-digit one."""
    norm = normalise(value).strip()
    m = _FIXED_PARTS.fullmatch(norm)
    if m is None:
        return mask_phone(value)
    local = _digits(m.group(2))
    keep = 4 if len(local) == 8 else 3
    return f"{m.group(1)}{'*' * (len(local) - keep)}{local[-keep:]}"


def mask_phone(value: str) -> str:
    """A phone number of any form: mobiles and fixed lines conventionally; anything else
    keeps only its last four digits (fewer for short numbers)."""
    norm = normalise(value).strip()
    if _PATTERNS[MOBILE].fullmatch(norm):
        return mask_mobile(norm)
    if _PATTERNS[FIXED_LINE].fullmatch(norm):
        return mask_fixed_line(norm)
    digits = _digits(norm)
    keep = 4 if len(digits) > 6 else max(0, len(digits) - 4)
    return "*" * (len(digits) - keep) + digits[len(digits) - keep :] if digits else "****"


def mask_id_number(value: str) -> str:
    """``110105194912310021`` → ``110***********0021`` (first 3, last 4)."""
    raw = normalise(value).replace(" ", "").upper()
    if len(raw) < 8:
        return "*" * len(raw)
    return raw[:3] + "*" * (len(raw) - 7) + raw[-4:]


def mask_card(value: str) -> str:
    """``6222 0212 3456 7890`` → ``622202******7890`` (first 6, last 4)."""
    digits = _digits(value)
    if len(digits) < 11:
        return "*" * len(digits)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_email(value: str) -> str:
    """``zhang.san@qq.com`` → ``z***@qq.com``; text without ``@`` becomes ``***``."""
    norm = normalise(value).strip()
    local, at, domain = norm.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_name(value: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``, ``John Smith`` → ``J***``: the surname
    (compound ones whole) stays, every other character is a star; latin names keep their
    first letter."""
    name = value.strip()
    if not name:
        return ""
    if name[0].isascii():
        return f"{name[0]}***"
    surname = name[:2] if len(name) > 2 and name[:2] in _COMPOUND_SURNAMES else name[:1]
    return surname + "*" * max(1, len(name) - len(surname))


MASKERS: dict[str, Callable[[str], str]] = {
    MOBILE: mask_mobile,
    ID_NUMBER: mask_id_number,
    CARD: mask_card,
    FIXED_LINE: mask_fixed_line,
    EMAIL: mask_email,
}


def mask_text(text: str) -> str:
    """``text`` with every match of :func:`find` replaced by its masked form; everything
    else unchanged."""
    matches = find(text)
    if not matches:
        return text
    out: list[str] = []
    pos = 0
    for m in matches:
        out.append(text[pos : m.start])
        out.append(MASKERS[m.kind](m.value))
        pos = m.end
    out.append(text[pos:])
    return "".join(out)
