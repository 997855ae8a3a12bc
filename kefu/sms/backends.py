"""The one small interface an SMS provider is used through, and its backends.

``settings.KEFU_SMS_BACKEND`` chooses the backend: ``console`` (the embedded default: each
SMS is appended as one line to ``settings.KEFU_SMS_OUTBOX``, ``<KEFU_VAR_DIR>/sms/outbox.txt``,
so a fresh machine and the demo work without a provider) or ``aliyun`` (Alibaba Cloud's
Dysms ``SendSms``, :mod:`kefu.sms.aliyun`). A backend either returns the provider's id of
the accepted message or raises :class:`SmsRefused` with the provider's code and message and
whether trying again may help."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One SMS as a provider takes it: the number, the approved signature and template
    code with its parameters, the same text rendered locally, and kefu's own reference
    (the provider echoes it back in delivery reports)."""

    to: str
    sign_name: str
    template_code: str
    params: Mapping[str, str]
    text: str
    reference: str


class SmsRefused(Exception):
    """The provider did not take the SMS: ``code`` and ``message`` as it said them (or
    ``timeout`` / ``network`` when it said nothing); ``retryable`` when the same SMS may
    pass later (a timeout, a rate limit, the provider's own fault)."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class SmsBackend(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, sms: Outgoing) -> str:
        """Hand the SMS to the provider; its id for the accepted message."""


class ConsoleBackend:
    """Writes each SMS as one tab-separated line (instant, number, signed text) to the
    outbox file: for the embedded default and the demo, where nobody has a provider."""

    name = "console"

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or settings.KEFU_SMS_OUTBOX)

    def send(self, sms: Outgoing) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        at = timezone.localtime().isoformat(timespec="seconds")
        text = " ".join(f"【{sms.sign_name}】{sms.text}".split())
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(f"{at}\t{sms.to}\t{text}\n")
        return f"console:{sms.reference}"


def sms_backend() -> SmsBackend:
    """The configured backend (``settings.KEFU_SMS_BACKEND``)."""
    name = settings.KEFU_SMS_BACKEND
    if name == "console":
        return ConsoleBackend()
    if name == "aliyun":
        from kefu.sms.aliyun import AliyunBackend

        return AliyunBackend.from_settings()
    raise ValueError(f"KEFU_SMS_BACKEND: unknown SMS backend {name!r} (console, aliyun)")
