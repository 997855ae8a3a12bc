"""The ASGI application ``kefu serve`` runs (``kefu.asgi:application``).

HTTP (and the server's lifespan) go to :class:`KefuASGIHandler`, below; WebSockets go to
Django Channels consumers (:func:`build_application`; the mechanism is
``kefu/core/realtime.py``, the routes ``kefu/routing.py``).

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

The one hop holds the whole synchronous part of a request, as a WSGI server would run it:
``request_started``, the request, the middleware chain and view, and — for a response whose
body is already in memory — ``response.close()`` with ``request_finished``. Only reading the
body and sending the answer stay on the event loop. Django's own handler takes three hops
(one per signal and one for the view) and two tasks per request: a fifth of the server's CPU
per ticket on the ticket-intake benchmark (2.9 → 2.3 ms, bench/README.md). A streamed
response (the audit CSV, an attachment) is read on the request's thread a batch at a time
(``stream_batch`` bytes) and sent as it is read — Django's handler reads a synchronous
stream whole into memory first — then closed, on the same thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, cast

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.urls import re_path, set_script_prefix

from kefu.core import realtime

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

    stream_batch = 2**16  # bytes of a streamed response read per hop to its thread

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
                realtime.bind_loop(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                realtime.unbind_loop(asyncio.get_running_loop())
                await asyncio.get_running_loop().run_in_executor(None, self.threads.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the answer was sent
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The synchronous part of one request, on its thread (see the module's text)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error = self.create_request(scope, body_file)
        if request is None:
            assert error is not None  # create_request gives one or the other
            response: HttpResponseBase = error
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        if not isinstance(response, StreamingHttpResponse):
            response.close()  # its body is in memory: request_finished may run before it is sent
            return response
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.is_async:
            parts = cast(Iterator[bytes], response.streaming_content)
            response.streaming_content = _batches(parts, self.stream_batch)
        return response

    def close(self) -> None:
        """Release the idle threads and their database connections (tests, shutdown)."""
        self.threads.close()


def _take(parts: Iterator[bytes], limit: int) -> bytes | None:
    """The next ``limit`` bytes or more of a stream, whole parts; ``None`` at its end."""
    taken: list[bytes] = []
    size = 0
    for part in parts:
        taken.append(part)
        size += len(part)
        if size >= limit:
            break
    return b"".join(taken) if taken else None


async def _batches(parts: Iterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """A synchronous stream read on the request's thread, a batch per hop."""
    take = sync_to_async(_take, thread_sensitive=True)
    while (batch := await take(parts, limit)) is not None:
        yield batch


def websocket_application() -> Any:
    """The public routes of ``kefu/routing.py`` (the chat widget, opened from clients'
    websites, which checks its own key and origin) as they are; every other route only from
    an allowed origin (``ALLOWED_HOSTS``: no other site's page may open one with the user's
    cookie), with the user of the session cookie."""
    # The routes import the apps' consumers and models: only once Django is set up.
    from kefu.routing import public_websocket_urlpatterns, websocket_urlpatterns

    logged_in = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    return URLRouter([*public_websocket_urlpatterns, re_path(r"", logged_in)])


def build_application(http: KefuASGIHandler) -> ProtocolTypeRouter:
    """HTTP and the server's lifespan to ``http``, WebSockets to Channels."""
    return ProtocolTypeRouter(
        {"http": http, "lifespan": http, "websocket": websocket_application()}
    )


def get_application() -> ProtocolTypeRouter:
    django.setup(set_prefix=False)
    return build_application(
        KefuASGIHandler(keep_idle_threads=int(os.environ.get("KEFU_WEB_THREADS", "16")))
    )


application = get_application()
