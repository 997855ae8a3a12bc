"""The chat's periodic work (registered in :class:`kefu.chat.apps.ChatConfig`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from kefu.chat.routing import offers_expire
from kefu.core.jobs import job_register


def expire_offers(now: datetime | None) -> int:
    """Pass on offers whose time is up and send chats that waited too long to leave a
    message. The consumers do both on time while their pages are open; this covers a
    console that went away."""
    return offers_expire(at=now)


def register_jobs() -> None:
    job_register(name="chat.offers", every=timedelta(seconds=15), func=expire_offers)
