"""kefu's embedded SQLite backend: Django's, with a queue in front of the write lock.

SQLite admits one writer at a time, and kefu begins every transaction ``IMMEDIATE``, so a
transaction holds the write lock from BEGIN to COMMIT. A writer that finds it taken waits in
SQLite's busy handler, which sleeps between tries for longer and longer (up to 100 ms): with
several writers the lock is often free while all of them sleep, and one unlucky request
waits many times its own length (8 API clients creating tickets: p95 670 ms for a create
that takes 14 ms alone).

Here a transaction first takes its turn in a queue: a lock per database file inside the
process, which threads hand to each other at once, then an exclusive ``flock`` on
``<database file>.writer`` between processes (the web workers, ``kefu worker``, a
command), tried every half millisecond by the one thread per process that is next. The
wait is bounded by the database's ``timeout`` option, after which the transaction fails
with "database is locked" as SQLite's own wait would. Programs that do not use this backend
(the sqlite3 shell) still meet SQLite's lock and busy timeout, as before."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_POLL_S = 0.0005


class _WriterQueue:
    """The queue for one database file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.turn = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # A forked child must not share its parent's open file: flock belongs to it.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def enter(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.turn.acquire(timeout=timeout):
            raise OperationalError("database is locked (waited for the writer queue)")
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError(
                            "database is locked (another process kept the write lock)"
                        ) from None
                    time.sleep(_POLL_S)
        except BaseException:
            self.turn.release()
            raise

    def leave(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.turn.release()


_queues: dict[str, _WriterQueue] = {}
_queues_lock = threading.Lock()


def _queue_for(path: str) -> _WriterQueue:
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = _WriterQueue(path)
        return queue


@functools.lru_cache(maxsize=2048)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class _Cursor(base.SQLiteCursorWrapper):
    """Django's cursor, with each SQL text's ``%s`` → ``?`` conversion kept (a regular
    expression per statement otherwise: the same few texts run again and again)."""

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is None:
            return _qmark(query)
        return str(super().convert_query(query, param_names=param_names))  # type: ignore[misc]


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_queue: _WriterQueue | None = None

    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=_Cursor)

    def _writer_queue(self) -> _WriterQueue | None:
        if self.is_in_memory_db():
            return None
        return _queue_for(f"{os.path.abspath(self.settings_dict['NAME'])}.writer")

    def _start_transaction_under_autocommit(self) -> None:
        queue = self._writer_queue()
        if queue is not None and self._in_queue is None:
            queue.enter(float(self.settings_dict["OPTIONS"].get("timeout", 5)))
            self._in_queue = queue
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._leave_queue()
            raise

    def _leave_queue(self) -> None:
        queue, self._in_queue = self._in_queue, None
        if queue is not None:
            queue.leave()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._leave_queue()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()
