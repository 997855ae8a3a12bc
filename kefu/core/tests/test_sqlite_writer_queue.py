"""The embedded database's writer queue (kefu/core/sqlite/base.py): concurrent write
transactions take turns without losing work, a waiting writer starts as soon as the lock is
free, and a writer that cannot get its turn fails after the timeout with "database is
locked", as SQLite's own wait does."""

from __future__ import annotations

import fcntl
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError, connection, connections, transaction

from kefu.conftest import Tenant
from kefu.core.sqlite.base import _queue_for
from kefu.tickets.models import Tag

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the writer queue belongs to the SQLite backend"
    ),
]


def _lock_path() -> str:
    return f"{os.path.abspath(connection.settings_dict['NAME'])}.writer"


@pytest.fixture
def short_timeout() -> Iterator[None]:
    options = connection.settings_dict["OPTIONS"]
    before = options["timeout"]
    options["timeout"] = 0.3
    yield
    options["timeout"] = before


def _in_thread(work: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_writers_in_threads_take_turns_and_every_write_lands(tenant_a: Tenant) -> None:
    def write(i: int) -> None:
        for j in range(10):
            with transaction.atomic():
                Tag.objects.create(client=tenant_a.client, name=f"t{i}-{j}")

    threads = [_in_thread(functools.partial(write, i)) for i in range(6)]
    for thread in threads:
        thread.join(30)
    assert Tag.objects.filter(client=tenant_a.client).count() == 60


def test_a_waiting_writer_starts_as_soon_as_the_holder_commits(tenant_a: Tenant) -> None:
    held = threading.Event()
    started: list[float] = []
    released_at: list[float] = []

    def holder() -> None:
        with transaction.atomic():
            Tag.objects.create(client=tenant_a.client, name="first")
            held.set()
            # SQLite's busy handler would by now poll only every 100 ms (after sleeping
            # 1, 2, 5, 10, … ms): its next try comes some 80 ms after this commit.
            time.sleep(0.45)
            released_at.append(time.monotonic())

    def waiter() -> None:
        held.wait(5)
        with transaction.atomic():
            started.append(time.monotonic())
            Tag.objects.create(client=tenant_a.client, name="second")

    threads = [_in_thread(holder), _in_thread(waiter)]
    for thread in threads:
        thread.join(10)
    assert set(Tag.objects.values_list("name", flat=True)) == {"first", "second"}
    # Slack for a busy machine's scheduler, still short of the busy handler's ~80 ms.
    assert started[0] - released_at[0] < 0.06


@pytest.mark.usefixtures("short_timeout")
def test_a_writer_fails_with_locked_when_another_process_keeps_the_lock(
    tenant_a: Tenant,
) -> None:
    # Another process's turn: an flock on the same file, taken through a file of its own.
    other = os.open(_lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        connections.close_all()
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            Tag.objects.create(client=tenant_a.client, name="blocked")
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    # The failed writer left the queue: the next one goes straight in.
    with transaction.atomic():
        Tag.objects.create(client=tenant_a.client, name="after")
    assert list(Tag.objects.values_list("name", flat=True)) == ["after"]


@pytest.mark.usefixtures("short_timeout")
def test_a_writer_fails_with_locked_when_a_thread_keeps_its_turn(tenant_a: Tenant) -> None:
    queue = _queue_for(_lock_path())
    assert queue.turn.acquire(timeout=5)
    try:
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            Tag.objects.create(client=tenant_a.client, name="blocked")
    finally:
        queue.turn.release()
    assert not Tag.objects.filter(name="blocked").exists()
