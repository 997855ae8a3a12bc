"""Header fields of Chinese email: RFC 2047 encoded words with kefu's charset mapping (and
wrong labels), raw 8-bit headers from old clients, RFC 2231 parameters, addresses,
Message-IDs and dates. Pure: imports no Django.

Values come in as the bytes the message carried (``raw_value``), never through the email
package's own decoding, which replaces what it cannot read with U+FFFD."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_tz

from kefu.mail.charsets import codec_for, decode_bytes, normalise_label

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_CONTROL_WS = re.compile(r"[\r\n\t\v\f]+")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_ZONE = re.compile(r"\+\d{4}\b|\b(UTC?|GMT|Z)\b", re.I)


def raw_value(message: Message, name: str) -> bytes | None:
    """The first ``name`` header exactly as received (unfolded), or None when absent."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return _FOLD.sub(b"", _to_bytes(value)).strip()
    return None


def payload_of(message: Message) -> list[Message] | bytes:
    """The parts of a multipart (or message/rfc822) part, or the body bytes exactly as
    received (still transfer-encoded). ``Message.get_payload()`` would decode 8-bit bytes with
    the declared charset on the way, and fails on some labels."""
    payload = getattr(message, "_payload", None)
    if isinstance(payload, list):
        return [part for part in payload if isinstance(part, Message)]
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return _to_bytes(payload)
    return b""


def _to_bytes(value: object) -> bytes:
    # The bytes parser keeps 8-bit header bytes as lone surrogates; this gives them back.
    return str(value).encode("utf-8", errors="surrogateescape")


def decode_header(raw: bytes | None, *, what: str, defects: list[str]) -> str:
    """The text of a header: 8-bit bytes read as UTF-8, then gb18030 (then a guess); encoded
    words decoded through kefu's charset mapping. Line breaks become spaces."""
    if not raw:
        return ""
    text = _decode_8bit(raw, what=what, defects=defects)
    text = decode_words(text, what=what, defects=defects)
    return _CONTROL_WS.sub(" ", text).strip()


def _decode_8bit(raw: bytes, *, what: str, defects: list[str]) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    decoded = decode_bytes(raw, None, what=what)
    if decoded.defect:
        defects.append(decoded.defect.replace("declared none", "8-bit header"))
    return decoded.text


def decode_words(text: str, *, what: str, defects: list[str]) -> str:
    """Decode the RFC 2047 encoded words in ``text``. Neighbouring words in one charset are
    joined as bytes before decoding, since encoders split multibyte characters across them;
    white space between encoded words is dropped, as the RFC says."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []
    pending_label = ""
    position = 0

    def flush() -> None:
        if pending:
            decoded = decode_bytes(b"".join(pending), pending_label, what=what)
            if decoded.defect:
                defects.append(decoded.defect)
            out.append(decoded.text)
            pending.clear()

    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(between)
        label, kind, payload = match.groups()
        data = _word_bytes(kind, payload, what=what, defects=defects)
        if data is None:
            flush()
            out.append(match.group(0))
        else:
            if pending and _same_charset(label, pending_label):
                pending.append(data)
            else:
                flush()
                pending.append(data)
                pending_label = label
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)


def _same_charset(a: str, b: str) -> bool:
    codec_a, codec_b = codec_for(a), codec_for(b)
    if codec_a is None or codec_b is None:
        return normalise_label(a) == normalise_label(b)
    return codec_a == codec_b


def _word_bytes(kind: str, payload: str, *, what: str, defects: list[str]) -> bytes | None:
    data = payload.encode("utf-8", errors="surrogateescape")
    if kind in "Qq":
        return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    if len(data) % 4 == 1:
        defects.append(f"{what}: base64 encoded word with a stray character")
        data = data[:-1]
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        defects.append(f"{what}: unreadable base64 encoded word")
        return None


def param(message: Message, name: str, header: str, *, defects: list[str]) -> str:
    """A parameter of a structured header (``filename`` of Content-Disposition, ``name`` of
    Content-Type) decoded from RFC 2231 (with its charset and continuations), RFC 2047 in a
    quoted string, or raw 8-bit bytes; "" when absent."""
    raw = raw_value(message, header)
    if raw is None:
        return ""
    # A latin-1 str round-trips every byte through the email package's parameter parser.
    probe = Message()
    probe[header] = raw.decode("latin-1")
    value = probe.get_param(name, header=header, unquote=True)
    if value is None:
        return ""
    if isinstance(value, tuple):
        charset, _language, text = value
        data = text.encode("latin-1", errors="replace")
        decoded = decode_bytes(data, charset or None, what=name)
        if decoded.defect:
            defects.append(decoded.defect)
        result = decoded.text
    else:
        result = decode_header(
            value.encode("latin-1", errors="replace"), what=name, defects=defects
        )
    return result.strip().strip('"').strip()


def addresses(raw: bytes | None, *, what: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; names decoded, entries without an address
    left out. Encoded words inside quoted names (common, though not allowed) are decoded."""
    if not raw:
        return []
    text = _CONTROL_WS.sub(" ", _decode_8bit(raw, what=what, defects=defects))
    result = []
    for name, address in getaddresses([text]):
        address = address.strip().strip("<>").lower()
        if "@" not in address:
            continue
        name = decode_words(name, what=what, defects=defects)
        result.append((_CONTROL_WS.sub(" ", name).strip().strip('"').strip(), address))
    return result


def message_ids(raw: bytes | None) -> list[str]:
    """Message-IDs in a Message-ID, In-Reply-To or References header, without angle
    brackets, in order, each once. A bare id without brackets is taken whole."""
    if not raw:
        return []
    text = raw.decode("utf-8", errors="replace")
    found = _MSG_ID.findall(text)
    if not found:
        found = [word for word in text.split() if "@" in word]
    seen: dict[str, None] = {}
    for value in found:
        seen.setdefault(value.strip(), None)
    return list(seen)


def parse_date(raw: bytes | None, *, defects: list[str]) -> datetime | None:
    """The Date header as an aware datetime in the sender's offset; None when missing or
    unreadable. A date without a zone (or with -0000) is read as UTC, as RFC 5322 says of
    -0000, and noted in ``defects``."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    parts = parsedate_tz(text)
    if parts is None:
        defects.append("date: unreadable")
        return None
    offset = parts[9]
    if offset == 0 and not _ZONE.search(text):
        offset = None  # Python reads a missing zone and -0000 alike as +0000
    try:
        naive = datetime(*parts[:6])
    except (ValueError, OverflowError, TypeError):
        defects.append("date: out of range")
        return None
    if offset is None:
        defects.append("date: no time zone, read as UTC")
        return naive.replace(tzinfo=UTC)
    try:
        return naive.replace(tzinfo=timezone(timedelta(seconds=offset)))
    except (ValueError, OverflowError):
        defects.append("date: bad time zone, read as UTC")
        return naive.replace(tzinfo=UTC)
