"""Reading one email exactly as received into what kefu needs. Pure: imports no Django.

The email package splits the MIME tree (``compat32``, which keeps 8-bit bytes as they came);
every header, parameter and body is decoded by kefu itself (``charsets``, ``mimeheaders``)
so that a "gb2312" message holding 镕 reads as 镕, not U+FFFD.

Forwarded messages (``message/rfc822`` parts) are kept twice: as an ``.eml`` attachment (the
original, to download or re-import) and in the body, below a ``---------- 转发的邮件
----------`` header block, so the agent reads them without opening anything; their own
attachments are listed too. ``split_quoted`` folds that block like any quoted history."""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import quopri
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from html import escape
from io import BytesIO

from kefu.mail import noise
from kefu.mail.charsets import decode_bytes, html_meta_charset
from kefu.mail.htmltext import html_to_text, normalise_cid, sanitize_html
from kefu.mail.mimeheaders import (
    addresses,
    decode_header,
    message_ids,
    param,
    parse_date,
    payload_of,
    raw_value,
)
from kefu.mail.quoting import split_quoted

__all__ = [
    "MailAttachment",
    "MailParseError",
    "ParsedMail",
    "parse_message",
    "split_quoted",
    "ticket_numbers_in",
]


class MailParseError(Exception):
    """The message cannot be read at all; ``reason`` says why (kept with the quarantined raw
    message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class MailAttachment:
    filename: str
    content_type: str
    size: int
    # None when the part is larger than the limit given to parse_message (then oversize).
    content: bytes | None
    content_id: str = ""  # without angle brackets; set for inline images
    inline: bool = False  # the sanitised HTML shows it (an <img src="cid:...">)
    oversize: bool = False


@dataclass(frozen=True, kw_only=True)
class ParsedMail:
    message_id: str  # without angle brackets; "" when the message has none
    in_reply_to: list[str]  # Message-IDs without angle brackets
    references: list[str]
    subject: str
    from_name: str
    from_address: str  # lower-cased; "" when missing or unreadable
    to: list[str]
    cc: list[str]
    date: datetime | None  # timezone-aware
    text: str  # the plain-text body (derived from the HTML when there is no text part)
    html: str  # the HTML body, sanitised for display; "" when there is none
    attachments: list[MailAttachment] = field(default_factory=list)
    auto_reply: bool = False  # out-of-office, auto-responder, 自动回复; every bounce too
    bounce: bool = False  # a DSN or a mailer-daemon bounce
    bounced_recipients: list[str] = field(default_factory=list)
    ticket_numbers: list[str] = field(default_factory=list)  # KF-YYYY-NNNNNN in the subject
    content_hash: str = ""  # sha256 hex of the raw bytes
    defects: list[str] = field(default_factory=list)  # what was repaired or guessed
    reply_to: list[str] = field(default_factory=list)  # lower-cased Reply-To addresses
    remote_images: int = 0  # remote (tracking) images removed from the HTML


# Client.ticket_prefix is 1–8 capital letters; tickets/services.py numbers PREFIX-YYYY-NNNNNN.
TICKET_NUMBER = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,8}-\d{4}-\d{6})(?!\d)")
_MAIL_HEADERS = frozenset(
    {"from", "sender", "to", "cc", "subject", "date", "message-id", "received", "return-path",
     "mime-version", "content-type", "in-reply-to", "references", "reply-to", "delivered-to"}
)  # fmt: skip
_KNOWN_CTE = frozenset({"", "7bit", "8bit", "binary", "base64", "quoted-printable"})
_MAX_DEPTH = 12
_FILENAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def ticket_numbers_in(subject: str) -> list[str]:
    """Ticket numbers (``KF-2026-000123``, any 1–8 letter prefix, upper-cased) in a subject,
    in order, each once."""
    seen: dict[str, None] = {}
    for number in TICKET_NUMBER.findall(subject):
        seen.setdefault(number.upper(), None)
    return list(seen)


def parse_message(raw: bytes, *, max_attachment_bytes: int = 20 * 1024 * 1024) -> ParsedMail:
    """Read a message as received (RFC 5322 bytes). Whatever can be read is returned, with
    ``defects`` saying what was repaired or guessed; attachments above
    ``max_attachment_bytes`` keep their name and size but not their content. Raises
    MailParseError only when the bytes are not an email at all (empty, no header)."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MailParseError("not bytes")
    raw = bytes(raw)
    if not raw.strip():
        raise MailParseError("empty message")
    message = BytesParser(policy=compat32).parsebytes(raw)
    if not {key.lower() for key, _value in message.raw_items()} & _MAIL_HEADERS:
        raise MailParseError("not an email: no message header found")
    defects: list[str] = []
    subject = decode_header(raw_value(message, "subject"), what="subject", defects=defects)
    senders = addresses(raw_value(message, "from"), what="from", defects=defects)
    if not senders:
        senders = addresses(raw_value(message, "sender"), what="sender", defects=defects)
    from_name, from_address = senders[0] if senders else ("", "")
    if not senders:
        defects.append("from: missing or unreadable")
    body = _Body(limit=max_attachment_bytes, defects=defects)
    body.walk(message, depth=0)
    text, html, attachments, remote_images = body.result()
    bounce, bounced = noise.bounce_of(
        message, subject=subject, from_address=from_address, text=text
    )
    ids = message_ids(raw_value(message, "message-id"))
    return ParsedMail(
        message_id=ids[0] if ids else "",
        in_reply_to=message_ids(raw_value(message, "in-reply-to")),
        references=message_ids(raw_value(message, "references")),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        to=_addresses_only(message, "to", defects),
        cc=_addresses_only(message, "cc", defects),
        reply_to=_addresses_only(message, "reply-to", defects),
        date=parse_date(raw_value(message, "date"), defects=defects),
        text=text,
        html=html,
        attachments=attachments,
        auto_reply=bounce or noise.is_auto_reply(message, subject),
        bounce=bounce,
        bounced_recipients=bounced,
        ticket_numbers=ticket_numbers_in(subject),
        content_hash=hashlib.sha256(raw).hexdigest(),
        defects=_unique(defects + _mime_defects(message)),
        remote_images=remote_images,
    )


def _addresses_only(message: Message, name: str, defects: list[str]) -> list[str]:
    found = addresses(raw_value(message, name), what=name, defects=defects)
    return _unique([address for _name, address in found])


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


@dataclass
class _Content:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)


class _Body:
    """Walks the MIME tree once, collecting text and HTML bodies and attachments."""

    def __init__(self, *, limit: int, defects: list[str]) -> None:
        self.limit = limit
        self.defects = defects
        self.content = _Content()
        self.counter = 0

    def result(self) -> tuple[str, str, list[MailAttachment], int]:
        content = self.content
        raw_html = "\n".join(content.htmls)
        text = "\n\n".join(t.strip("\r\n") for t in content.texts if t.strip())
        if not text.strip() and raw_html:
            text = html_to_text(raw_html)
        attachments = content.attachments
        if not raw_html:
            return text, "", attachments, 0
        cids = {a.content_id for a in attachments if a.content_id and a.content is not None}
        cleaned = sanitize_html(raw_html, known_cids=cids)
        # inline means "the HTML shows it": the attachment list can leave those out.
        attachments = [
            replace(a, inline=True) if a.content_id in cleaned.cids else a for a in attachments
        ]
        return text, cleaned.html, attachments, cleaned.remote_images

    def walk(self, part: Message, *, depth: int, into: _Content | None = None) -> None:
        out = self.content if into is None else into
        ctype = part.get_content_type()
        if depth > _MAX_DEPTH:
            self.defects.append("mime: nesting too deep, inner parts kept as attachments")
            self._attachment(part, out)
        elif ctype == "multipart/alternative" and part.is_multipart():
            self._alternative(part, depth, out)
        elif part.is_multipart() and ctype.startswith("multipart/"):
            for child in _children(part):
                self.walk(child, depth=depth + 1, into=out)
        elif ctype == "message/rfc822" and part.is_multipart():
            self._forwarded(part, depth, out)
        elif ctype in ("text/plain", "text/html") and self._is_body(part):
            self._text(part, ctype, out)
        else:
            self._attachment(part, out)

    def _alternative(self, part: Message, depth: int, out: _Content) -> None:
        # Alternatives come in rising order of preference: the last plain and the last HTML.
        choices = []
        for child in _children(part):
            sub = _Content()
            self.walk(child, depth=depth + 1, into=sub)
            choices.append(sub)
            out.attachments.extend(sub.attachments)
        with_text = [c for c in choices if c.texts]
        with_html = [c for c in choices if c.htmls]
        if with_text:
            out.texts.extend(with_text[-1].texts)
        if with_html:
            out.htmls.extend(with_html[-1].htmls)

    def _is_body(self, part: Message) -> bool:
        if part.get_content_disposition() == "attachment":
            return False
        return not self._filename(part)

    def _text(self, part: Message, ctype: str, out: _Content) -> None:
        data = self._payload(part)
        label = part.get_param("charset")
        charset = label if isinstance(label, str) else None
        if charset is None and ctype == "text/html":
            charset = html_meta_charset(data)
        decoded = decode_bytes(data, charset, what=ctype)
        if decoded.defect:
            self.defects.append(decoded.defect)
        text = decoded.text.replace("\r\n", "\n").replace("\x00", "")
        if ctype == "text/html":
            out.htmls.append(text)
        else:
            out.texts.append(text)

    def _forwarded(self, part: Message, depth: int, out: _Content) -> None:
        inner = next((p for p in _children(part)), None)
        self._attachment(part, out, data=_as_bytes(inner) if inner is not None else b"")
        if inner is None:
            return
        sub = _Content()
        self.walk(inner, depth=depth + 1, into=sub)
        header = _forward_header(inner, self.defects)
        text = "\n\n".join(t.strip("\r\n") for t in sub.texts if t.strip())
        if not text.strip() and sub.htmls:
            text = html_to_text("\n".join(sub.htmls))
        out.texts.append(header + "\n\n" + text)
        html = "\n".join(sub.htmls) or (f"<pre>{escape(text)}</pre>" if text else "")
        out.htmls.append(
            f"<hr><p>{escape(header).replace(chr(10), '<br>')}</p><blockquote>{html}</blockquote>"
        )
        out.attachments.extend(sub.attachments)

    def _filename(self, part: Message) -> str:
        name = param(part, "filename", "content-disposition", defects=self.defects) or param(
            part, "name", "content-type", defects=self.defects
        )
        name = re.split(r"[/\\]", name)[-1]
        return _FILENAME_UNSAFE.sub("_", name).strip(" .")[:200]

    def _attachment(self, part: Message, out: _Content, *, data: bytes | None = None) -> None:
        self.counter += 1
        ctype = part.get_content_type()
        payload = self._payload(part) if data is None else data
        content_id = normalise_cid(decode_header(raw_value(part, "content-id"), what="content-id",
                                                 defects=self.defects))  # fmt: skip
        filename = self._filename(part) or self._default_name(part, ctype)
        oversize = len(payload) > self.limit
        out.attachments.append(
            MailAttachment(
                filename=filename,
                content_type=ctype,
                size=len(payload),
                content=None if oversize else payload,
                content_id=content_id,
                oversize=oversize,
            )
        )
        if oversize:
            self.defects.append(f"attachment {filename}: {len(payload)} bytes, over the limit")

    def _default_name(self, part: Message, ctype: str) -> str:
        if ctype == "message/rfc822":
            inner = next((p for p in _children(part)), None)
            subject = ""
            if inner is not None:
                subject = decode_header(raw_value(inner, "subject"), what="subject", defects=[])
            subject = _FILENAME_UNSAFE.sub("_", subject).strip(" ._")[:80]
            return f"{subject or f'forwarded-{self.counter}'}.eml"
        if ctype.startswith("message/"):
            return f"{ctype.split('/', 1)[1]}-{self.counter}.txt"
        extension = ".txt" if ctype.startswith("text/") else mimetypes.guess_extension(ctype)
        stem = "image" if ctype.startswith("image/") else "attachment"
        return f"{stem}-{self.counter}{extension or '.bin'}"

    def _payload(self, part: Message) -> bytes:
        """The decoded body of a leaf part. Base64 is read leniently (stray characters,
        missing padding); an unknown transfer encoding is taken as the raw bytes."""
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if part.is_multipart():
            return _as_bytes(part)
        raw = _raw_payload(part)
        if cte == "base64":
            data, broken = _decode_base64(raw)
            if broken:
                self.defects.append(
                    f"{part.get_content_type()}: damaged base64, read as far as possible"
                )
            return data
        if cte == "quoted-printable":
            return quopri.decodestring(raw)
        if cte not in _KNOWN_CTE:
            self.defects.append(
                f"{part.get_content_type()}: unknown transfer encoding {cte!r}, kept as is"
            )
        return raw


def _children(part: Message) -> list[Message]:
    payload = payload_of(part)
    return payload if isinstance(payload, list) else []


def _raw_payload(part: Message) -> bytes:
    payload = payload_of(part)
    return payload if isinstance(payload, bytes) else b""


def _decode_base64(data: bytes) -> tuple[bytes, bool]:
    """Decode base64 that may hold stray characters, inner padding or a truncated end;
    returns (bytes, whether anything had to be repaired)."""
    compact = re.sub(rb"[^A-Za-z0-9+/=]", b"", data)
    broken = len(compact) != len(re.sub(rb"\s", b"", data))
    out = bytearray()
    for chunk in re.split(rb"=+", compact):
        if not chunk:
            continue
        if len(chunk) % 4 == 1:
            chunk, broken = chunk[:-1], True
        try:
            out += base64.b64decode(chunk + b"=" * (-len(chunk) % 4))
        except (binascii.Error, ValueError):
            broken = True
    return bytes(out), broken


def _as_bytes(message: Message) -> bytes:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(message)
    except (ValueError, LookupError, UnicodeError, TypeError):
        return _raw_payload(message)
    return buffer.getvalue()


def _forward_header(inner: Message, defects: list[str]) -> str:
    senders = addresses(raw_value(inner, "from"), what="forwarded from", defects=defects)
    recipients = addresses(raw_value(inner, "to"), what="forwarded to", defects=defects)
    date = parse_date(raw_value(inner, "date"), defects=[])
    subject = decode_header(raw_value(inner, "subject"), what="forwarded subject", defects=defects)

    def who(pairs: list[tuple[str, str]]) -> str:
        return ", ".join(f"{name} <{address}>" if name else address for name, address in pairs)

    lines = ["---------- 转发的邮件 ----------", f"发件人: {who(senders)}"]
    if date is not None:
        lines.append(f"日期: {date:%Y-%m-%d %H:%M %z}")
    lines += [f"主题: {subject}", f"收件人: {who(recipients)}"]
    return "\n".join(lines)


def _mime_defects(message: Message) -> list[str]:
    found = []
    for part in message.walk():
        for defect in getattr(part, "defects", []):
            found.append(f"mime: {type(defect).__name__}")
    return found
