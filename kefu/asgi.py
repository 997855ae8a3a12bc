"""The ASGI application ``kefu serve`` runs (``kefu.asgi:application``).

kefu's views, middleware and database work are synchronous. Django's stock ASGI handler
runs such a stack at a price paid on every request: each request gets a thread of its own,
started for it and joined after it, so its database connection is opened and closed again
(on SQLite that is a new connection, its set-up PRAGMAs and a WAL checkpoint when it
closes); and the middleware chain is loaded in async mode, where each synchronous hook
(sessions, CSRF, authentication, messages …) and the view are one thread hop each.

:class:`KefuASGIHandler` keeps Django's request handling and changes only those two
things: the middleware chain is loaded in sync mode (the one Django's WSGI handler and
the test client use), entered through one thread hop; and that thread comes from a pool of
long-lived threads, one request at a time on each, so the thread-local database connection
survives between requests (``CONN_MAX_AGE`` on SQLite, the connection pool on PostgreSQL).
Requests run concurrently as before: a request that finds every thread busy gets a new one,
kept for later unless ``KEFU_WEB_THREADS`` idle threads are already waiting.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")


class _ThreadPool:
    """Single-thread executors, handed out one per request and taken back after it."""

    def __init__(self, keep_idle: int) -> None:
        self.keep_idle = keep_idle
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()
        self._count = 0

    @contextmanager
    def executor(self) -> Iterator[ThreadPoolExecutor]:
        with self._lock:
            executor = self._idle.pop() if self._idle else None
            if executor is None:
                self._count += 1
                name = f"kefu-web-{self._count}"
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        try:
            yield executor
        finally:
            with self._lock:
                keep = len(self._idle) < self.keep_idle
                if keep:
                    self._idle.append(executor)
            if not keep:
                executor.shutdown(wait=False)

    def close(self) -> None:
        """Close the idle threads' database connections and end the threads."""
        with self._lock:
            idle, self._idle = self._idle, []
        for executor in idle:
            executor.submit(connections.close_all).result()
            executor.shutdown()


class KefuASGIHandler(ASGIHandler):
    """Django's ASGI handler running a synchronous stack in one hop, on reused threads."""

    def __init__(self, keep_idle_threads: int = 16) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = _ThreadPool(keep_idle_threads)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"kefu serves HTTP only, not {scope['type']}")
        # Every thread-sensitive step of this request (request_started, the middleware chain
        # and view, response.close and request_finished) runs on this one thread, so the
        # connection Django opens for the request is the one it checks and releases after.
        with self.threads.executor() as executor:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        """The server's start and stop: on stop, the idle threads close their database
        connections (a PostgreSQL pool is not left to time out)."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.threads.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    def close(self) -> None:
        """Release the idle threads and their database connections (tests, shutdown)."""
        self.threads.close()


def get_application() -> KefuASGIHandler:
    django.setup(set_prefix=False)
    return KefuASGIHandler(keep_idle_threads=int(os.environ.get("KEFU_WEB_THREADS", "16")))


application = get_application()
