"""Field encryption at rest and blind indexes. Pure: no Django, so it is tested alone.

Stored form of an encrypted value::

    v1:<key_id>:<base64url(nonce ‖ ciphertext ‖ tag)>

AES-256-GCM with a random 96-bit nonce per value. The associated data names the column
and the row's client (``context``), so a value copied into another column or another
client's row fails to decrypt instead of being shown there.

A :class:`KeyRing` holds several encryption keys by id; the first is current and encrypts,
all of them decrypt. Rotating = put a new key first, run ``kefu encryption rotate`` (every
value re-encrypted under it), then drop the old key.

Blind indexes (exact lookup by phone, email or name without decrypting) are
HMAC-SHA256 under a separate *index key*, truncated to 128 bits. The index key is not
part of the rotation: an index must stay stable while values move from one encryption key
to the next, or lookups would miss during a rotation. Changing the index key is a separate,
rarer operation (``kefu encryption reindex`` recomputes every index from the decrypted
values).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
INDEX_BYTES = 16
# Lower case only: SQLite's LIKE ignores case, and rotation finds stale values by prefix.
KEY_ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
_KEY_ID_RULE = "use 1-32 lower-case letters, digits, '-' or '_'"
_TOKEN_PATTERN = re.compile(r"^v1:([a-z0-9_-]{1,32}):([A-Za-z0-9_=-]+)$")


class KeyConfigError(ValueError):
    """The key configuration (``KEFU_FIELD_KEYS`` / ``KEFU_INDEX_KEY``) is unusable."""


class DecryptionError(ValueError):
    """A stored value cannot be decrypted: unknown key id, wrong key or tampered value."""


def is_token(value: str) -> bool:
    """Whether ``value`` has the stored form of an encrypted value."""
    return bool(_TOKEN_PATTERN.match(value))


def token_key_id(token: str) -> str:
    """The id of the key that encrypted ``token``; DecryptionError if not a token."""
    match = _TOKEN_PATTERN.match(token)
    if match is None:
        raise DecryptionError("not an encrypted value (expected v1:<key id>:<data>)")
    return match.group(1)


def _b64decode_key(text: str, what: str) -> bytes:
    try:
        raw = _b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError(f"{what}: not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(f"{what}: must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _b64decode(text: str) -> bytes:
    """Base64, URL-safe or standard (``openssl rand -base64 32``), padding optional; any
    other character is an error."""
    text = text.replace("+", "-").replace("/", "_").rstrip("=")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def generate_key_line(key_id: str | None = None) -> str:
    """A fresh ``id:base64key`` entry for ``KEFU_FIELD_KEYS``."""
    key_id = key_id or "k" + secrets.token_hex(4)
    if not KEY_ID_PATTERN.match(key_id):
        raise KeyConfigError(f"key id {key_id!r}: {_KEY_ID_RULE}")
    return f"{key_id}:{_b64encode(os.urandom(KEY_BYTES))}"


def generate_index_key() -> str:
    """A fresh value for ``KEFU_INDEX_KEY``."""
    return _b64encode(os.urandom(KEY_BYTES))


def normalise_phone(value: str) -> str:
    """Digits only; a mainland number written +86 / 0086 / 86 + 11 digits loses the prefix."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def normalise_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def normalise_account(value: str) -> str:
    """A WeChat openid/unionid or a portal login: NFKC, surrounding spaces dropped. Case is
    kept: WeChat ids are case-sensitive, and a portal account is whatever the portal says."""
    return unicodedata.normalize("NFKC", value).strip()


def normalise_name(value: str) -> str:
    """Whitespace collapsed, case folded, full-width forms folded (NFKC)."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id (``current_id`` encrypts) and the blind-index key."""

    keys: Mapping[str, bytes]
    current_id: str
    index_key: bytes

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise KeyConfigError(f"current key {self.current_id!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if not KEY_ID_PATTERN.match(key_id):
                raise KeyConfigError(f"key id {key_id!r}: {_KEY_ID_RULE}")
            if len(key) != KEY_BYTES:
                raise KeyConfigError(f"key {key_id!r}: must be {KEY_BYTES} bytes")
        if len(self.index_key) != KEY_BYTES:
            raise KeyConfigError(f"index key: must be {KEY_BYTES} bytes")
        if any(hmac.compare_digest(self.index_key, key) for key in self.keys.values()):
            raise KeyConfigError("the index key must differ from every encryption key")

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        """One cipher per key, set up once (not per value read or written)."""
        return {key_id: AESGCM(key) for key_id, key in self.keys.items()}

    @classmethod
    def parse(cls, field_keys: str, index_key: str) -> KeyRing:
        """``field_keys``: comma-separated ``id:base64key``, the first is current.
        ``index_key``: base64 of 32 bytes. KeyConfigError names what is wrong."""
        keys: dict[str, bytes] = {}
        current = ""
        for entry in (e.strip() for e in field_keys.split(",")):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise KeyConfigError(f"field key {entry[:8]}…: expected id:base64key")
            if key_id in keys:
                raise KeyConfigError(f"field key id {key_id!r} appears twice")
            keys[key_id] = _b64decode_key(encoded.strip(), f"field key {key_id!r}")
            current = current or key_id
        if not keys:
            raise KeyConfigError("no field encryption key configured")
        if not index_key.strip():
            raise KeyConfigError("no index key configured")
        return cls(
            keys=keys,
            current_id=current,
            index_key=_b64decode_key(index_key.strip(), "index key"),
        )

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt under the current key, bound to ``context`` (column and row owner)."""
        nonce = os.urandom(NONCE_BYTES)
        aad = self._aad(self.current_id, context)
        sealed = self._ciphers[self.current_id].encrypt(nonce, plaintext.encode(), aad)
        return f"{VERSION}:{self.current_id}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of ``token``. DecryptionError when the key id is not in the ring,
        or when the key, the data or the context (column/client) does not match."""
        key_id = token_key_id(token)
        key = self.keys.get(key_id)
        if key is None:
            known = ", ".join(sorted(self.keys))
            raise DecryptionError(
                f"value encrypted with key {key_id!r}, which is not configured (keys: {known})"
            )
        encoded = token.rsplit(":", 1)[1]
        try:
            raw = _b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("encrypted value is not valid base64") from exc
        if len(raw) < NONCE_BYTES + 16:
            raise DecryptionError("encrypted value is truncated")
        try:
            plain = self._ciphers[key_id].decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(key_id, context)
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"encrypted value does not authenticate under key {key_id!r} "
                "(wrong key, altered data, or moved from another column or client)"
            ) from exc
        return plain.decode()

    def needs_rotation(self, token: str) -> bool:
        return token_key_id(token) != self.current_id

    @property
    def current_prefix(self) -> str:
        """How every value encrypted under the current key starts."""
        return f"{VERSION}:{self.current_id}:"

    def blind_index(self, kind: str, normalised: str) -> str:
        """Keyed HMAC-SHA256 of an already normalised value, 128 bits as hex; ``""`` for
        an empty value so blanks never match each other. ``kind`` separates domains."""
        if not normalised:
            return ""
        message = kind.encode() + b"\x00" + normalised.encode()
        return hmac.new(self.index_key, message, hashlib.sha256).digest()[:INDEX_BYTES].hex()

    def phone_index(self, value: str) -> str:
        return self.blind_index("phone", normalise_phone(value))

    def email_index(self, value: str) -> str:
        return self.blind_index("email", normalise_email(value))

    def name_index(self, value: str) -> str:
        return self.blind_index("name", normalise_name(value))

    def account_index(self, kind: str, value: str) -> str:
        """Blind index of an account id of ``kind`` (``wechat_openid``, ``wechat_unionid``,
        ``portal``, ``external``): the kind is part of the message, so one string that is
        an openid of one customer and a portal login of another never matches across."""
        return self.blind_index(kind, normalise_account(value))

    @staticmethod
    def _aad(key_id: str, context: str) -> bytes:
        return f"kefu:{VERSION}:{key_id}:{context}".encode()
