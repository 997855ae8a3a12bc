"""Decoding the bytes of Chinese email into text without losing characters. Pure: imports no
Django.

Mail clients label their text with the oldest name that fits most of it: a "gb2312" message
routinely holds GBK characters (镕, 喆, 堃) and a "big5" one HKSCS characters (㗎, 啲).
Python decodes those labels strictly by the old tables and turns such characters into
U+FFFD. kefu reads every GB-family label as gb18030 (a superset of GB2312 and GBK) and every
Big5 label as big5hkscs, and when the label is wrong altogether it tries the encodings a
Chinese mailbox actually receives before giving up on a character."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

GB_LABELS = frozenset(
    {
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gb2312-80",
        "gb2312-1980",
        "csgb2312",
        "csiso58gb231280",
        "iso-ir-58",
        "chinese",
        "euc-cn",
        "euccn",
        "x-euc-cn",
        "eucgb2312-cn",
        "gbk",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "gb18030",
        "gb-18030",
        "gb18030-2000",
        "gb18030-2005",
        "gb18030-2022",
    }
)
BIG5_LABELS = frozenset(
    {
        "big5",
        "big-5",
        "big-five",
        "bigfive",
        "cn-big5",
        "csbig5",
        "x-x-big5",
        "x-big5",
        "big5-hkscs",
        "big5hkscs",
        "hkscs",
        "cp950",
        "ms950",
        "windows-950",
        "x-windows-950",
    }
)
# Labels that Python does not know or reads too narrowly, seen on real mail.
OTHER_ALIASES = {
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "us-ascii": "utf-8",  # 8-bit text under an ascii label is nearly always UTF-8 or GBK
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",  # what browsers do: the C1 range holds cp1252 punctuation
    "latin1": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
}
# Text codecs that no mail uses and that decode anything into nonsense or refuse everything.
_NOT_MAIL_CODECS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "palmos"}
)
# After the declared codec fails, the encodings a Chinese mailbox receives, most likely first.
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)


@dataclass(frozen=True)
class Decoded:
    text: str
    codec: str  # the Python codec that read the bytes
    defect: str = ""  # set when the label was wrong or missing, or characters were lost


def normalise_label(label: str | None) -> str:
    """The label as written, lower-cased and stripped of quotes, comments and RFC 2231
    language suffixes (``utf-8*zh-cn``)."""
    if not label:
        return ""
    value = label.strip().strip("\"'").strip().lower()
    value = value.split("*", 1)[0]
    return value.split("(", 1)[0].strip()


def codec_for(label: str | None) -> str | None:
    """The Python codec kefu decodes ``label`` with, or None when the label is missing or
    unknown. Every GB-family label gives gb18030 and every Big5 label big5hkscs."""
    value = normalise_label(label)
    if not value:
        return None
    if value in GB_LABELS:
        return "gb18030"
    if value in BIG5_LABELS:
        return "big5hkscs"
    value = OTHER_ALIASES.get(value, value)
    try:
        info = codecs.lookup(value)
    except (LookupError, ValueError):
        return None
    name = info.name
    # Bytes-to-bytes codecs (base64, zlib, rot13) are not charsets.
    if name in _NOT_MAIL_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    if name in ("gb2312", "gbk", "gb18030"):
        return "gb18030"
    if name in ("big5", "big5hkscs", "cp950"):
        return "big5hkscs"
    return name


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def detect(data: bytes) -> str | None:
    """The codec charset-normalizer guesses for ``data`` (mapped through ``codec_for``)."""
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    return codec_for(best.encoding)


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a ``<meta>`` tag, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def decode_bytes(data: bytes, label: str | None = None, *, what: str = "text") -> Decoded:
    """Decode ``data`` declared as ``label`` (None or "" when undeclared), never raising.

    Order: the declared codec (through ``codec_for``); then UTF-8, gb18030, big5hkscs; then
    charset-normalizer's guess; and only then the declared (or UTF-8) codec with
    replacement characters. A Latin-1-family label on bytes that read as UTF-8 or as GB
    Chinese is taken to be wrong. Every step past the first sets ``defect`` (naming
    ``what``)."""
    declared = codec_for(label)
    written = normalise_label(label) or "none"
    if declared in SINGLE_BYTE_LATIN and not data.isascii():
        better = _misread_latin(data)
        if better is not None:
            return Decoded(better[0], better[1], f"{what}: declared {written}, read as {better[1]}")
    if declared in EAST_ASIAN_MULTIBYTE:
        text = _strict(data, "utf-8")
        if text is not None and sum(1 for ch in text if ord(ch) > 0x7F) >= 2:
            # gb18030 reads nearly any byte pairs, so UTF-8 under a GB label would come out
            # as 浣犲ソ; valid UTF-8 with two or more non-ASCII characters is UTF-8.
            defect = f"{what}: declared {written}, read as utf-8"
            return Decoded(text.removeprefix("\ufeff"), "utf-8", defect)
    if declared is not None:
        text = _strict(data, declared)
        if text is not None:
            return Decoded(text.removeprefix("\ufeff"), declared)
    if data.isascii():
        defect = f"{what}: declared {written}, read as ascii" if declared else ""
        return Decoded(data.decode("ascii"), "ascii", defect)
    for codec in FALLBACKS:
        if codec == declared:
            continue
        text = _strict(data, codec)
        if text is not None:
            defect = f"{what}: declared {written}, read as {codec}"
            return Decoded(text.removeprefix("\ufeff"), codec, defect)
    guessed = detect(data)
    if guessed is not None and guessed != declared:
        text = _strict(data, guessed)
        if text is not None:
            return Decoded(text, guessed, f"{what}: declared {written}, guessed {guessed}")
    codec = declared or "utf-8"
    try:
        text = data.decode(codec, errors="replace")
    except (UnicodeError, LookupError):
        codec, text = "utf-8", data.decode("utf-8", errors="replace")
    return Decoded(text, codec, f"{what}: declared {written}, undecodable bytes replaced")


EAST_ASIAN_MULTIBYTE = frozenset({"gb18030", "big5hkscs", "cp949", "cp932", "euc_jp", "hz"})
SINGLE_BYTE_LATIN = frozenset({"cp1252", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2"})


def _misread_latin(data: bytes) -> tuple[str, str] | None:
    """UTF-8 or GB text under a Latin-1 label (old webmail did this): UTF-8 validity is a
    strong signal by itself; GB needs nearly every character from the GB2312 area, where
    both bytes are 0xA1 or above, which Latin text ("Müller", "Straße") never gives."""
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    text = _strict(data, "gb18030")
    if text is None:
        return None
    wide = [ch for ch in text if not ch.isascii()]
    in_gb2312_area = sum(
        1 for ch in wide if len(b := ch.encode("gb18030")) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1
    )
    if len(wide) >= 2 and in_gb2312_area >= 0.9 * len(wide):
        return text, "gb18030"
    return None
