"""How a survey reaches the customer, one sender per way (``email``, ``sms``, ``portal``,
``chat``), filled in by the apps that can carry it (:func:`sender_register` in their
``AppConfig.ready()``; the email and portal senders are the surveys app's own).

A sender returns the instant the transport accepted the survey, or :class:`Handed` when
the transport sends on its own later (an SMS, with its own retries): its ``check`` then
says, when asked, the instant it was accepted, ``None`` while it is still on its way, or
raises. Failing, a sender raises :class:`SendFailed` with the transport's answer;
``retryable`` says whether trying again may pass. A survey counts as sent only once its
transport accepted it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from kefu.surveys.models import Survey

# A ticket's channel → the way its survey goes out. A chat's survey is its own rating
# (kefu.chat); phone and WeChat customers get a link by SMS once kefu can send one.
VIA = {
    "email": "email",
    "portal": "portal",
    "chat": "chat",
    "phone": "sms",
    "wechat": "sms",
}


class SendFailed(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class Handed:
    """The survey is with a transport that reports later; ``ref`` is its record."""

    ref: str


SendFunc = Callable[[Survey], datetime | Handed]
CheckFunc = Callable[[Survey], datetime | None]


@dataclass(frozen=True)
class Sender:
    via: str
    send: SendFunc
    check: CheckFunc | None = None


_senders: dict[str, Sender] = {}


def sender_register(via: str, send: SendFunc, check: CheckFunc | None = None) -> None:
    _senders[via] = Sender(via, send, check)


def sender_named(via: str) -> Sender | None:
    return _senders.get(via)


def sender_unregister(via: str) -> None:
    _senders.pop(via, None)


def sender_for(ticket_channel: str) -> Sender | None:
    via = VIA.get(ticket_channel)
    return _senders.get(via) if via else None


def portal_publish(survey: Survey) -> datetime:
    """The portal shows the link on the customer's ticket (``survey_link_for_ticket``)
    from now on: published is sent."""
    return timezone.now()
