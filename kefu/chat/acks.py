"""The widgets' acknowledgements, written together.

A widget acknowledges every agent message it shows (``{"type": "ack", "id": …}``): that
instant is when the reply reached the customer and the response clocks are met
(:func:`kefu.chat.services.conversation_ack`). The widget expects no answer, so a server
process need not write each acknowledgement in a transaction (and a database thread hop)
of its own: the sockets hand them to one :class:`AckWriter`, which writes whatever has
arrived in one transaction while the previous one commits (a group commit: no timer, no
wait when the process is quiet). Each keeps the instant it arrived, so a reply counts at
the moment the widget showed it, not when it was written.

A process that stops between the arrival and the write loses those acknowledgements, as
it would lose a frame still queued for the database thread: the replies stay unconfirmed,
and the delivery sweep pushes them again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from django.db import transaction

from kefu.chat import services
from kefu.chat.frames import on_database
from kefu.chat.selectors import conversation_of_widget_socket

log = logging.getLogger(__name__)

Ack = tuple[int, int, datetime]  # conversation id, message id, when it arrived


def acks_write(acks: list[Ack]) -> int:
    """Write ``acks`` in one transaction; returns how many accepted a delivery. One that
    fails (a database error) is logged and skipped: the others are written."""
    accepted = 0
    with transaction.atomic():
        for conversation_id, message_id, at in acks:
            try:
                conversation = conversation_of_widget_socket(conversation_id)
                if conversation is not None and services.conversation_ack(
                    conversation=conversation, message_id=message_id, at=at
                ):
                    accepted += 1
            except Exception:
                log.exception("chat: acknowledgement of message %s not written", message_id)
    return accepted


class AckWriter:
    """A server process's queue of acknowledgements (see the module's text). ``limit``:
    the most written in one transaction."""

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self.pending: list[Ack] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, conversation_id: int, message_id: int, at: datetime) -> None:
        self.pending.append((conversation_id, message_id, at))
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[: self.limit], self.pending[self.limit :]
            try:
                await on_database(acks_write)(batch)
            except Exception:
                log.exception("chat: %s acknowledgements not written", len(batch))

    async def flushed(self) -> None:
        """Return once what was handed over so far is written (tests, shutdown)."""
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)


writer = AckWriter()
