"""Where the chat sockets' frames meet the database.

Channels runs ``database_sync_to_async`` calls on one thread per process (thread
sensitive): every frame of every socket queues for it. On SQLite that is as it should be —
one writer at a time, and the thread keeps its connection. On PostgreSQL a frame spends much
of its time waiting for the database's answers, and nothing else can use the thread
meanwhile: there the frames run on a small pool of threads of their own
(``KEFU_CHAT_DB_THREADS``, 4), each borrowing a connection from kefu's pool per frame, so
that their round trips overlap. One socket's frames still run one after the other (a
consumer awaits each), so their order is kept.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import connection

P = ParamSpec("P")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            size = max(1, int(os.environ.get("KEFU_CHAT_DB_THREADS", "4")))
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="kefu-chat-db")
        return _pool


def on_database(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``func`` as a coroutine function run where a chat frame's database work runs (see
    the module's text)."""
    if connection.vendor == "sqlite":
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=_threads())
