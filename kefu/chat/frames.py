"""Where the chat sockets' frames meet the database.

Channels runs ``database_sync_to_async`` calls on one thread per process (thread
sensitive): every frame of every socket queues for it. On SQLite that is as it should be —
one writer at a time, and the thread keeps its connection. On PostgreSQL a frame spends much
of its time waiting for the database's answers, and nothing else can use the thread
meanwhile: with ``KEFU_CHAT_DB_THREADS=N`` (an experiment, off by default) the frames
run on a pool of N threads of their own, each borrowing a connection from kefu's pool per
frame, so that their round trips overlap. Known problem: with it, ``kefu/chat/tests/
test_restart.py`` on PostgreSQL leaves a ``kefu serve`` process running after the test (the
cause is not found yet), so it stays off. One socket's frames still run one after the other (a
consumer awaits each), so their order is kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import connection

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _size() -> int:
    return max(0, int(os.environ.get("KEFU_CHAT_DB_THREADS", "0") or 0))


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_size(), thread_name_prefix="kefu-chat-db")
        return _pool


def on_database(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``func`` as a coroutine function run where a chat frame's database work runs (see
    the module's text)."""
    if connection.vendor == "sqlite" or _size() == 0:
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=_threads())


BACKLOG = 64  # a socket's frames waiting for their turn, at most


class FrameQueue:
    """A socket's frames, handled one after another by a task of their own.

    Channels hands a consumer one message at a time — a frame from its socket or an event
    from its groups — and waits until it is handled. A frame that waits for the database
    would hold up the events behind it (the customer's messages to an agent's console,
    which the layer drops past its capacity) and the socket's reading (uvicorn stops
    reading a socket whose application takes no frames: its pings go unanswered and it is
    closed, with every chat of the agent on it). So the consumer only queues its frames
    here: they keep their order, its events flow meanwhile, and when the database falls
    behind the socket gets ``busy`` errors for what it sends past ``BACKLOG`` frames
    instead of being closed."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = BACKLOG if limit is None else limit
        self.pending: deque[Callable[[], Coroutine[Any, Any, None]]] = deque()
        self.task: asyncio.Task[None] | None = None

    def put(self, run: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Queue ``run`` (it handles its own errors); False when the backlog is full."""
        if len(self.pending) >= self.limit:
            return False
        self.pending.append(run)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return True

    async def _drain(self) -> None:
        while self.pending:
            run = self.pending.popleft()
            try:
                await run()
            except Exception:
                log.exception("chat: a socket frame failed")

    def drop(self) -> None:
        """The socket is gone: frames not started are dropped (a widget sends its
        unacknowledged messages again when it comes back); the one running finishes."""
        self.pending.clear()
