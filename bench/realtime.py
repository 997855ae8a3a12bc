"""Live events: from a ticket change to 200 open queue pages on one server process, against a
bare Channels group send to the same pages (the floor).

Run with kefu's virtualenv::

    .venv/bin/python bench/realtime.py                       # embedded SQLite, in-memory layer
    .venv/bin/python bench/realtime.py --db postgres --redis redis://127.0.0.1:6379/0

One process serves kefu (``kefu.asgi``'s application under uvicorn, in a thread, as the
browser tests do) and makes the changes; a second process holds the queue pages' sockets
(``--pages``, 200) and stamps each event as it arrives (both read the same monotonic clock).

- **kefu**: ``ticket_set_status`` on one ticket of the client, in its own transaction: the
  event goes out on commit (``kefu/tickets/events.py``) through the server's loop to every
  page's socket. Timed from the call of the service, so its database work is included.
- **floor**: ``group_send`` of the same kind of event straight onto the server's loop, to
  the same sockets (the same consumers relay it).

Two phases each: latency (``--events`` events, one every ``--pace`` ms: p50/p99 over every
event × page) and throughput (``--burst`` events back to back: events per second until the
last page has the last one). Prints the figures, the ratio kefu / floor and the targets
(p99 < 200 ms; within 2× of the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


async def _pages(url: str, cookie: str, origin: str, count: int) -> None:
    """The client process: ``count`` sockets; prints READY, records every event until a line
    arrives on stdin, then prints the records as JSON."""
    from websockets.asyncio.client import connect

    sockets = [
        await connect(url, additional_headers={"Cookie": cookie, "Origin": origin}, max_queue=None)
        for _ in range(count)
    ]
    records: list[tuple[int, str, float]] = []

    async def read(ws: Any) -> None:
        async for raw in ws:
            event = json.loads(raw)
            records.append((event["ticket"], event["change"], time.perf_counter()))

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "count":
        print(len(records), flush=True)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    print(json.dumps(records), flush=True)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--redis", default="", help="REDIS_URL for the layer (default: in memory)")
    p.add_argument("--pages", type=int, default=200, help="open queue pages (200)")
    p.add_argument("--events", type=int, default=50, help="paced events per system (50)")
    p.add_argument("--pace", type=float, default=100.0, help="ms between paced events (100)")
    p.add_argument("--burst", type=int, default=50, help="events sent back to back (50)")
    p.add_argument(
        "--stock-layer",
        action="store_true",
        help="Channels' own in-memory layer instead of kefu's (kefu/core/channel_layer.py)",
    )
    p.add_argument("--pages-process", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.pages_process:
        url, cookie, origin = args.pages_process
        import uvloop

        uvloop.run(_pages(url, cookie, origin, args.pages))
        return
    if min(args.pages, args.events, args.burst) < 1 or args.pace < 0:
        p.error("--pages, --events and --burst must be ≥ 1, --pace ≥ 0")

    if args.redis:
        os.environ["REDIS_URL"] = args.redis
        os.environ["KEFU_REDIS_PREFIX"] = "kefu-bench"
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ["KEFU_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from fresh_kefu import fresh_kefu

    fresh_kefu(args.db, "kefu_bench_realtime")
    run(args)


def run(args: argparse.Namespace) -> None:
    import uvicorn
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.test import Client as HttpClient

    from kefu.accounts.models import User
    from kefu.accounts.roles import Role
    from kefu.asgi import KefuASGIHandler, build_application
    from kefu.contracts.services import client_create
    from kefu.core import realtime
    from kefu.tickets import services
    from kefu.tickets.events import queue_group

    if args.stock_layer and not args.redis:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    client = client_create(code="BENCH", name="基准测试甲方")
    agent = User.objects.create(username="bench_agent", role=Role.AGENT)
    agent.clients.add(client)
    total = 2 * (args.events + args.burst)
    tickets = [
        services.ticket_create(client=client, subject=f"工单{i}", body="x", channel="chat")
        for i in range(total)
    ]
    http = HttpClient()
    http.force_login(agent)
    cookie = f"sessionid={http.cookies['sessionid'].value}"

    handler = KefuASGIHandler(keep_idle_threads=4)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build_application(handler),
            log_level="warning",
            lifespan="on",
            ws_per_message_deflate=False,  # as `kefu serve` runs it
        )
    )
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    loop = realtime._loop
    assert loop is not None, "the server bound no loop"
    layer = get_channel_layer()
    group = queue_group(client.pk)

    pages = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--pages",
            str(args.pages),
            "--pages-process",
            f"ws://127.0.0.1:{port}/ws/clients/BENCH/queue/",
            cookie,
            f"http://127.0.0.1:{port}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert pages.stdout is not None and pages.stdin is not None
    assert pages.stdout.readline().strip() == "READY", "the pages did not connect"
    time.sleep(0.5)

    def settle(expected: int, limit: float = 60.0) -> None:
        """Wait until the pages hold ``expected`` events, or none arrive for two seconds."""
        assert pages.stdin is not None and pages.stdout is not None
        seen, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + limit
        while time.monotonic() < deadline:
            pages.stdin.write("count\n")
            pages.stdin.flush()
            count = int(pages.stdout.readline())
            if count >= expected:
                return
            if count != seen:
                seen, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since > 2:
                return
            time.sleep(0.2)

    cpu_before = os.times()
    sent: dict[tuple[int, str], float] = {}
    next_ticket = iter(tickets)

    def floor(change: str) -> None:
        key = -len(sent) - 1
        message = {"type": realtime.EVENT, "event": {"type": "ticket.changed", "ticket": key}}
        message["event"]["change"] = change
        sent[(key, change)] = time.perf_counter()
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)

    def kefu(change: str) -> None:
        ticket = next(next_ticket)
        sent[(ticket.pk, "status")] = time.perf_counter()
        services.ticket_set_status(ticket=ticket, actor=None, status="open")

    phases = {}
    for name, fire in (("floor", floor), ("kefu", kefu)):
        start = len(sent)
        for _ in range(args.events):
            fire(f"{name}-paced")
            time.sleep(args.pace / 1000)
        paced = dict(list(sent.items())[start:])
        settle(len(sent) * args.pages)
        start = len(sent)
        for _ in range(args.burst):
            fire(f"{name}-burst")
        burst = dict(list(sent.items())[start:])
        settle(len(sent) * args.pages)
        phases[name] = (paced, burst)

    cpu = os.times()
    server_cpu = cpu.user + cpu.system - cpu_before.user - cpu_before.system
    pages.stdin.write("stop\n")
    pages.stdin.flush()
    records = json.loads(pages.stdout.readline())
    pages.wait(timeout=30)
    cpu = os.times()
    pages_cpu = cpu.children_user + cpu.children_system
    server.should_exit = True

    arrivals: dict[tuple[int, str], list[float]] = {}
    for ticket, change, at in records:
        key = (ticket, "status" if ticket > 0 else change)
        arrivals.setdefault(key, []).append(at)

    print(
        f"\nlive events to {args.pages} queue pages on one process "
        f"({args.db}, {layer.__class__.__module__}.{layer.__class__.__name__})\n"
    )
    print(f"{'':8}{'p50 ms':>9}{'p99 ms':>9}{'events/s':>10}{'deliveries/s':>14}{'lost':>6}")
    figures = {}
    for name, (paced, burst) in phases.items():
        latencies = [(at - t0) * 1000 for key, t0 in paced.items() for at in arrivals.get(key, [])]
        expected = (len(paced) + len(burst)) * args.pages
        got = sum(len(arrivals.get(k, [])) for k in [*paced, *burst])
        first = min(burst.values())
        last = max(max(arrivals.get(k, [first])) for k in burst)
        rate = len(burst) / (last - first) if last > first else float("nan")
        p50, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
        figures[name] = (p50, p99, rate)
        print(
            f"{name:8}{p50:9.1f}{p99:9.1f}{rate:10.0f}{rate * args.pages:14.0f}{expected - got:6d}"
        )
    deliveries = len(records)
    print(
        f"\nCPU per delivery: server process {server_cpu / deliveries * 1e6:.0f} µs (with the "
        f"changes it makes), pages process {pages_cpu / deliveries * 1e6:.0f} µs; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    (fp50, fp99, frate), (kp50, kp99, krate) = figures["floor"], figures["kefu"]
    print(
        f"\nkefu / floor: p50 ×{kp50 / fp50:.2f}, p99 ×{kp99 / fp99:.2f}, "
        f"events/s ×{krate / frate:.2f}"
    )
    print(
        f"targets: p99 < 200 ms: {'yes' if kp99 < 200 else 'NO'}; "
        f"within 2× of the floor (p99): {'yes' if kp99 <= 2 * fp99 else 'NO'}"
    )


if __name__ == "__main__":
    main()
