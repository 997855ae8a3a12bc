"""Real time: the mechanism every live page goes through (Django Channels).

A page watches *groups* — a ticket, a client's queue, a user's notifications — through a
WebSocket consumer that a domain app defines on :class:`GroupConsumer`: the consumer says
which groups the user may join (through the same tenant scoping as the pages) or refuses
the socket. A change is announced with :func:`send_on_commit` from the service transaction
that made it: the event leaves only once that transaction commits, and never for a change
that was rolled back.

Events carry ids and the kind of change, never rendered content or personal data: a page
that hears of a change fetches what it shows through its own view, as the user it is.

The layer is the in-memory one on the embedded default and channels-redis when
``REDIS_URL`` is set (``CHANNEL_LAYERS`` in settings). The in-memory layer's queues belong
to the event loop that serves the sockets, so a server process binds that loop when it
starts (:func:`bind_loop`, from the ASGI lifespan, or the first socket): an event raised on
any other thread of the process — a request's thread, the in-process task worker — is
handed to that loop and the thread goes on without waiting for the send. A process without
a server loop (``kefu worker``, a command) sends on a loop of its own: with channels-redis
that reaches every server process; with the in-memory layer there is nobody to reach, and
nothing is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from functools import partial
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from kefu.core.metrics import websocket_closed, websocket_opened

log = logging.getLogger(__name__)

EVENT = "kefu.event"  # the layer message type every group event has (GroupConsumer.kefu_event)
SESSION_ENDED = "session.ended"

# Close codes: 4401 not logged in (or logged out: live.js then stops reconnecting), 4404
# not found or not allowed — one code for both, as pages answer 404 for both (no existence
# leak). A socket refused before it is accepted reaches a browser as a failed handshake.
CLOSE_ANONYMOUS = 4401
CLOSE_REFUSED = 4404

_loop: asyncio.AbstractEventLoop | None = None
_NAME_PART = re.compile(r"[^A-Za-z0-9_.-]")


def group_name(kind: str, key: object) -> str:
    """The layer group of one watched thing, e.g. ``group_name("ticket", 42)`` →
    ``kefu.ticket.42``. Characters a group name may not hold become ``_``."""
    return f"kefu.{_NAME_PART.sub('_', kind)}.{_NAME_PART.sub('_', str(key))}"[:99]


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop`` the one this process's events are sent on (the server's loop). A loop
    that has stopped (a test's) is replaced by the next one bound."""
    global _loop
    if _loop is None or _loop is loop or not _loop.is_running():
        _loop = loop


def unbind_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _loop
    if _loop is loop:
        _loop = None


def send(group: str, type_: str, data: dict[str, Any]) -> None:
    """Send one event to a group now (after a commit: see :func:`send_on_commit`). Safe to
    call from any thread, and never waits for the layer: the send runs on the server's
    loop, or in a process without one (``kefu worker``, a command) on a loop of its own —
    unless the layer is in memory, which nobody outside this process can hear. A failure
    of the layer is logged, never raised into the caller, whose change is committed."""
    _send_groups((group,), type_, data)


def _send_groups(groups: tuple[str, ...], type_: str, data: dict[str, Any]) -> None:
    """:func:`send` to each of ``groups``, in order, with one hand-over to the loop."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _loop
    if loop is None or not loop.is_running():
        if isinstance(layer, InMemoryChannelLayer):
            return  # no server loop: no socket in this process to hear it
        loop = _own_loop()
    message = {"type": EVENT, "event": {"type": type_, **data}}
    loop.call_soon_threadsafe(_spawn, layer, groups, message)


_sender: asyncio.AbstractEventLoop | None = None
_sender_lock = threading.Lock()


def _own_loop() -> asyncio.AbstractEventLoop:
    """The loop of this process's sending thread, started on first use."""
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = asyncio.new_event_loop()
            threading.Thread(target=_sender.run_forever, name="kefu-live", daemon=True).start()
        return _sender


def _spawn(layer: Any, groups: tuple[str, ...], message: dict[str, Any]) -> None:
    if isinstance(layer, InMemoryChannelLayer):
        # The in-memory layer's groups live on this loop: a group no socket is in would
        # receive nothing, and most changes (a ticket created through the API) have no
        # page watching, so no send is started for them.
        groups = tuple(group for group in groups if layer.groups.get(group))
    loop = asyncio.get_running_loop()
    for group in groups:
        task = loop.create_task(layer.group_send(group, message))
        _pending.add(task)
        task.add_done_callback(_done)


_pending: set[asyncio.Task[None]] = set()  # keeps running sends referenced until they end


def _done(task: asyncio.Task[None]) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("realtime: event not sent", exc_info=task.exception())


def session_group(session_key: str) -> str:
    """Every socket opened with one login session, named by a digest of its key (group
    names can be seen in Redis; session keys must not be)."""
    return group_name("session", hashlib.sha256(session_key.encode()).hexdigest()[:40])


def session_end(session_key: str | None) -> None:
    """Close every socket of a login session that has ended (logout): a socket otherwise
    lives as long as its page, whatever happens to the login."""
    if session_key:
        send(session_group(session_key), SESSION_ENDED, {})


def send_on_commit(groups: Iterable[str], type_: str, **data: Any) -> None:
    """Send the event to each group once the current transaction commits (at once outside a
    transaction); nothing is sent if it rolls back."""
    transaction.on_commit(partial(_send_groups, tuple(groups), type_, data))


class GroupConsumer(AsyncJsonWebsocketConsumer):
    """A socket that joins the groups its user may watch, and relays their events.

    Subclasses implement :meth:`authorise` (synchronous, run on a database thread): the
    groups for this user and route, or ``None`` to refuse. An anonymous socket is refused
    before that is asked. Each group event reaches the page as JSON (``{"type": …, …}``),
    unless :meth:`relay` filters or rewrites it. The socket closes when its login session
    ends (:func:`session_end`)."""

    groups_joined: list[str]

    def authorise(self, user: Any, route: dict[str, Any]) -> list[str] | None:
        """The groups ``user`` may join on this route (its path parameters in ``route``),
        or ``None`` to refuse the socket."""
        raise NotImplementedError

    async def connect(self) -> None:
        bind_loop(asyncio.get_running_loop())
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        route = self.scope["url_route"]["kwargs"]
        groups = await database_sync_to_async(self.authorise)(user, route)
        if groups is None:
            await self.close(code=CLOSE_REFUSED)
            return
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            groups = [*groups, session_group(session_key)]
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        websocket_opened(self)
        await self.joined()

    async def joined(self) -> None:
        """Called once the socket is accepted and in its groups."""

    async def disconnect(self, code: int) -> None:
        websocket_closed(self)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Pages only listen, unless a consumer says otherwise."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels closes the thread's stale database connections before every handler,
        one hop to a worker thread each time. A group event is relayed without the database
        (a :meth:`relay` that reads it goes through ``database_sync_to_async``, which does
        the same closing), so it skips that hop: with 200 pages on a queue, it was 200 hops
        per event and most of the server's time (bench/realtime.py)."""
        if message["type"] == EVENT:
            await self.kefu_event(message)
        else:
            await super().dispatch(message)

    async def kefu_event(self, message: dict[str, Any]) -> None:
        if message["event"]["type"] == SESSION_ENDED:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        event = await self.relay(message["event"])
        if event is not None:
            await self.send_json(event)

    async def relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return event
