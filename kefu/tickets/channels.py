"""Delivery adapters: how a public reply reaches the customer on its ticket's channel.

Each channel app registers one adapter for its channel in its ``AppConfig.ready()``
(:func:`channel_register`); the tickets app never names a channel. A channel with no adapter
registered has no transport: a reply on it is refused before anything is saved
(:func:`transport_problem`).

An adapter is called three times in a reply's life:

1. :meth:`ChannelAdapter.transport_problem` before anything is written: ``None`` when this
   client can reach this ticket's customer, else what to configure, in Chinese with English.
2. :meth:`ChannelAdapter.prepare` in the reply's transaction, once the message and its
   :class:`~kefu.tickets.models.Delivery` exist: write what the transport needs (a mail with
   its threading headers). It returns :class:`Accepted` when the outcome is already known
   (a logged phone call that reached the customer), raises :class:`DeliveryFailed` when it
   already failed, and returns ``None`` when :meth:`~ChannelAdapter.send` is to hand it to
   the transport later (from a task, after the commit).
3. :meth:`ChannelAdapter.send` outside any transaction, once per attempt: returns the instant
   the transport accepted the delivery, or raises :class:`DeliveryFailed` with the
   transport's reason and whether trying again may help.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django import forms

    from kefu.tickets.models import Delivery, Ticket


@dataclass(frozen=True)
class Accepted:
    """The transport took the delivery at ``at`` (an aware instant), under its own id."""

    at: datetime
    external_id: str = ""


class DeliveryFailed(Exception):
    """The transport did not take the delivery. ``reason`` is shown to the agent;
    ``retryable`` says whether the same delivery may succeed later (a server down) or not
    (an address refused, a call not answered)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class ChannelAdapter(Protocol):
    @property
    def channel(self) -> str:
        """The ticket channel (a :class:`~kefu.tickets.models.Channel` value) served."""

    @property
    def resendable(self) -> bool:
        """Whether a failed delivery can be handed to the transport again (a mail can; a
        logged call cannot: the agent calls again, which is a new reply)."""

    @property
    def confirm_within(self) -> timedelta | None:
        """How long the transport may take to confirm a delivery by itself (a chat widget
        acknowledging what it showed, :func:`kefu.tickets.delivery.delivery_accept`) before
        :meth:`send` is called (by the periodic :func:`~kefu.tickets.delivery.
        delivery_retry_due`, within its period after that: no task is queued for a delivery
        that is usually confirmed in time); ``None``: :meth:`send` is called at once (a
        task)."""

    @property
    def reply_form(self) -> type[forms.Form] | None:
        """The page's reply form for this channel (its ``cleaned_data`` reaches
        :meth:`prepare` as ``data``); ``None``: the plain text reply form."""

    def transport_problem(self, *, ticket: Ticket) -> str | None: ...

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None: ...

    def send(self, *, delivery: Delivery) -> Accepted: ...


_ADAPTERS: dict[str, ChannelAdapter] = {}


def channel_register(adapter: ChannelAdapter) -> None:
    """Make ``adapter`` the delivery adapter of its channel (the last registration wins,
    so a test can stand in for a channel)."""
    _ADAPTERS[adapter.channel] = adapter


def channel_unregister(channel: str) -> ChannelAdapter | None:
    return _ADAPTERS.pop(channel, None)


def channel_adapter(channel: str) -> ChannelAdapter | None:
    return _ADAPTERS.get(channel)


def channels_confirming() -> list[str]:
    """The channels whose transport confirms a delivery by itself (``confirm_within``)."""
    return sorted(c for c, a in _ADAPTERS.items() if a.confirm_within is not None)


def channel_resendable(channel: str) -> bool:
    adapter = _ADAPTERS.get(channel)
    return adapter is not None and adapter.resendable


def transport_problem(ticket: Ticket) -> str | None:
    """Why a reply on this ticket cannot reach the customer (what to configure), or
    ``None`` when it can."""
    adapter = channel_adapter(ticket.channel)
    if adapter is None:
        label = ticket.get_channel_display()
        return _(
            "“%(channel)s”渠道的发送通道尚未配置，回复无法送达客户 / "
            "No transport is configured for the %(code)s channel yet: "
            "the reply could not reach the customer"
        ) % {"channel": label, "code": ticket.channel}
    return adapter.transport_problem(ticket=ticket)
