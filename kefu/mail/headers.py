"""Header arithmetic of the email channel. Pure: imports no Django.

- :func:`dedup_key` names a raw message for idempotent ingestion. It reads only the
  Message-ID header with the standard library's lenient parser, independent of
  :mod:`kefu.mail.parse`, so that a parser fix never changes the key of a stored message.
- :func:`reply_subject` and :func:`references` build the headers of an outbound mail.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser
from email.policy import compat32

_MSGID = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|sv|fw|fwd|回复|回覆|答复|转发)\s*[:：]\s*)+", re.IGNORECASE
)
_NOREPLY_LOCALPARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)
MAX_REFERENCES = 20


def message_id_of(raw: bytes) -> str:
    """The Message-ID without angle brackets, or "" when there is none readable."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw).get("Message-ID")
    except Exception:
        return ""
    if value is None:
        return ""
    text = str(value).strip()
    found = _MSGID.search(text)
    key = found.group(1) if found else text.strip("<> \t\r\n")
    return key[:290] if key and not any(ch.isspace() for ch in key) else ""


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def dedup_key(raw: bytes, message_id: str) -> str:
    """The Message-ID (``message_id_of(raw)``, read once by the caller), or
    ``sha256:<hex>`` of the raw bytes when there is none."""
    return message_id or f"sha256:{content_hash(raw)}"


def strip_reply_prefixes(subject: str) -> str:
    return _REPLY_PREFIX.sub("", subject).strip()


def reply_subject(subject: str, number: str) -> str:
    """``Re: <subject> [NUMBER]``: one "Re:", the ticket number once, in brackets."""
    base = strip_reply_prefixes(subject).replace(f"[{number}]", "").strip()
    base = strip_reply_prefixes(base)
    base = re.sub(r"\s{2,}", " ", base)
    return f"Re: {base} [{number}]" if base else f"Re: [{number}]"


def references(previous: list[str], parent: str) -> list[str]:
    """The References of a reply to ``parent`` whose own References were ``previous``: the
    chain plus the parent, without repeats, the first (thread root) always kept and the
    middle trimmed past ``MAX_REFERENCES`` (RFC 5322 §3.6.4)."""
    chain: list[str] = []
    for mid in [*previous, parent]:
        mid = mid.strip("<> ")
        if mid and mid not in chain:
            chain.append(mid)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


def format_ids(ids: list[str]) -> str:
    return " ".join(f"<{mid.strip('<>')}>" for mid in ids if mid.strip("<>"))


def is_noreply(address: str) -> bool:
    """An address nobody reads (mailer-daemon, noreply@…): never acknowledged."""
    local = address.rpartition("@")[0].lower()
    return local in _NOREPLY_LOCALPARTS or local.startswith(("noreply", "no-reply", "bounce"))
