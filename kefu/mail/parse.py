"""Reading one email exactly as received into what kefu needs. Pure: imports no Django.

INTERFACE (fixed; the mail app builds on it) — implementation to be filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    inline: bool = False
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
    auto_reply: bool = False  # out-of-office, auto-responder, 自动回复
    bounce: bool = False  # a DSN or a mailer-daemon bounce
    bounced_recipients: list[str] = field(default_factory=list)
    ticket_numbers: list[str] = field(default_factory=list)  # KF-YYYY-NNNNNN in the subject
    content_hash: str = ""  # sha256 hex of the raw bytes
    defects: list[str] = field(default_factory=list)  # what was repaired or guessed


def parse_message(raw: bytes, *, max_attachment_bytes: int = 20 * 1024 * 1024) -> ParsedMail:
    raise NotImplementedError


def split_quoted(text: str) -> tuple[str, str]:
    """Split a plain-text body into (what the sender wrote now, the quoted history and
    signature below it) so the agent view can fold the second part. Nothing is dropped:
    ``new + quoted`` holds every line of ``text``."""
    raise NotImplementedError
