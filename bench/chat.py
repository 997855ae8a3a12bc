"""Live chat: N conversations over real WebSockets on one ``kefu serve`` process, against a
bare Django Channels relay under the same server software (the floor), in the same run.

Run with kefu's virtualenv::

    .venv/bin/python bench/chat.py                      # embedded SQLite, in-memory layer
    .venv/bin/python bench/chat.py --db postgres --redis redis://127.0.0.1:6379/0

Each system in turn, on a server process of its own, started for its turn:

1. **Memory.** ``--conversations`` idle widget sockets (connected, greeted, no chat started);
   the server's resident memory before and after, divided by their number. Closed again.
2. **Set-up through the protocol.** ``--agents`` agent consoles go online with
   ``--max-chats`` each; ``--conversations`` customers open the widget and start a chat;
   kefu routes each to an agent, who is offered it and accepts (start → offer → accept).
   The floor has no routing: each customer joins conversation *i*, agent *i mod agents*
   joins it too.
3. **Traffic.** Every conversation, at its own phase, sends one customer message every
   ``--interval`` seconds and, half an interval later, one agent message; the customer's
   widget acknowledges every agent message it shows (what makes a kefu reply count).
   ``--warmup`` seconds unmeasured, then ``--duration`` seconds measured, then the last
   messages are waited for while they still arrive (at most ``--drain`` seconds).

Measured per message (the load generator stamps sending and arrival with one clock):
customer → agent (the customer's frame sent, the agent's socket has it; matched by the
message's client id), agent → customer (matched by a nonce in the text), and each sender's
acknowledgement round trip. Every message sent must arrive exactly once: lost and
duplicated messages, error frames and dropped sockets are counted, and any makes the exit
status 1. For kefu, the replies accepted through the widget's acknowledgements are counted in
the database afterwards, and kefu's services per frame (SQL statements, CPU) are measured
in-process on the run's database. Each system's server CPU in the window is per message
delivered in it, with its threads' time runnable but waiting for a CPU (other programs'
share of a shared machine) and the load average.

kefu runs as ``python -m kefu serve`` (the in-process task worker and scheduler on the
embedded database, as by default, ``--serve-worker``; on PostgreSQL a ``kefu worker``
process beside it unless ``--no-worker``), with ``KEFU_TRUSTED_PROXIES=127.0.0.1`` and one
``X-Forwarded-For`` address per customer, as behind nginx: each visitor has its own
per-address message budget. The floor
(``--floor-server``, below) is a Channels consumer that parses each JSON frame, answers the
sender's acknowledgement and relays the message through the same channel layer to the
conversation's group — no database, no checks — served by ``uvicorn.run`` with the options
``kefu serve`` passes. The load generator is this one process on uvloop; it shares the
machine's two cores with the server (and the database), and its CPU time is printed.

``--profile DIR`` runs kefu's server under ``bench/profile_server.py``, sampling its
threads' stacks during the measured window into ``DIR/report.txt`` (with each thread's time
on a CPU and waiting for one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from servers import HOST, Server, free_port, log, rss_kib, sched_seconds  # noqa: E402

SITE = "https://www.shop-bench.example"  # the widget's allowed origin
# The PostgreSQL database the run creates (and drops unless --keep).
PG_DATABASE = os.environ.get("KEFU_BENCH_DB", "kefu_bench_chat")
TARGET_P99_MS = 100.0
TARGET_RATIO = 3.0

CUSTOMER_LINES = [
    "你好，我的订单三天了还没发货",
    "请问退款什么时候到账？",
    "快递显示已签收，但我没有收到",
    "发票抬头写错了，可以重开吗",
    "会员积分怎么没有到账",
    "我想修改收货地址",
    "好的，谢谢",
    "还有一个问题，保修期是多久？",
]
AGENT_LINES = [
    "您好，我来帮您查询一下",
    "已经为您催促仓库，今天会发出",
    "退款预计 1–3 个工作日到账",
    "麻烦提供一下订单号",
    "已为您登记，稍后会有专人联系",
    "不客气，还有其他可以帮您的吗？",
]


# ---------------------------------------------------------------------------------------
# the floor: a bare Channels relay in a server process of its own


def floor_server(port: int) -> None:
    """Serve the floor on ``port``: Django configured with the channel layer alone (the one
    kefu uses: its in-memory layer, or channels-redis with ``REDIS_URL``), the consumer
    under ``uvicorn.run`` with the options ``kefu serve`` passes."""
    import django
    from django.conf import settings

    redis_url = os.environ.get("REDIS_URL", "")
    settings.configure(
        CHANNEL_LAYERS={
            "default": (
                {
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [redis_url], "prefix": "kefu-bench-floor"},
                }
                if redis_url
                else {"BACKEND": "kefu.core.channel_layer.InMemoryChannelLayer"}
            )
        },
    )
    django.setup()
    import uvicorn
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    class FloorConsumer(AsyncWebsocketConsumer):
        """A widget or agent socket of the floor: JSON frames in, an acknowledgement to
        the sender, the message through the layer to everyone in the conversation."""

        next_id = 0

        async def dispatch(self, message: dict[str, Any]) -> None:
            # No database here: skip Channels' stale-connection check (a thread hop per
            # message), as kefu's consumers do for group events.
            handler = getattr(self, message["type"].replace(".", "_"))
            await handler(message)

        async def connect(self) -> None:
            self.role = self.scope["url_route"]["kwargs"]["role"]
            self.conversation = 0
            self.joined: list[str] = []
            await self.accept()
            await self.send(json.dumps({"type": "hello" if self.role == "widget" else "state"}))

        async def disconnect(self, code: int) -> None:
            for group in self.joined:
                await self.channel_layer.group_discard(group, self.channel_name)

        async def _join(self, conversation: int) -> None:
            group = f"floor.chat.{conversation}"
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)

        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            frame = json.loads(text_data or "{}")
            kind = frame.get("type")
            if kind == "start":
                self.conversation = frame["conversation"]
                await self._join(self.conversation)
                await self.send(json.dumps({"type": "started", "conversation": self.conversation}))
            elif kind == "join":
                await self._join(frame["conversation"])
                await self.send(
                    json.dumps({"type": "conversation", "conversation": frame["conversation"]})
                )
            elif kind == "message":
                customer = self.role == "widget"
                conversation = self.conversation if customer else frame["conversation"]
                FloorConsumer.next_id += 1
                at = time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
                message = {
                    "id": FloorConsumer.next_id,
                    "from": "customer" if customer else "agent",
                    "text": frame["text"],
                    "at": at,
                    "author": "" if customer else "坐席",
                    "attachments": [],
                    **({"cid": frame["cid"]} if customer else {}),
                }
                await self.channel_layer.group_send(
                    f"floor.chat.{conversation}",
                    {
                        "type": "floor.event",
                        "event": {
                            "type": "message",
                            "conversation": conversation,
                            "message": message,
                        },
                    },
                )
                ack = {"type": "ack", "cid": frame["cid"], "id": message["id"], "at": at}
                await self.send(
                    json.dumps(ack if customer else {**ack, "conversation": conversation})
                )
            # "ack" from a widget: nothing to record

        async def floor_event(self, message: dict[str, Any]) -> None:
            event = message["event"]
            if self.role == "widget":
                await self.send(
                    json.dumps({"type": "message", **event["message"]}, ensure_ascii=False)
                )
            else:
                await self.send(json.dumps(event, ensure_ascii=False))

    application = ProtocolTypeRouter(
        {"websocket": URLRouter([path("ws/floor/<str:role>/", FloorConsumer.as_asgi())])}
    )
    # The options of `kefu serve` (kefu/core/management/commands/serve.py), with the proxy
    # trusted as the bench runs kefu.
    uvicorn.run(
        application,
        host=HOST,
        port=port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=[HOST],
        ws_per_message_deflate=False,
        ws_max_size=4096,
        lifespan="off",
    )


# ---------------------------------------------------------------------------------------
# the load generator


@dataclass
class Flow:
    """Messages one way: when each was sent, acknowledged to its sender, and received."""

    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    received: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    extra_acks: int = 0
    ids: dict[int, str] = field(default_factory=dict)  # message id → its key
    pushed_again: int = 0  # the same message (same id) sent again; a widget shows it once

    def arrived(self, message: dict[str, Any], text: str, at: float) -> bool:
        """Record a message's arrival (keyed by the nonce its text starts with); False for
        one seen before under the same id (kefu pushes an unacknowledged reply again; the
        widget de-duplicates by id). A second id for one key is a duplicated message."""
        key = text.split(" ", 1)[0]
        if message["id"] in self.ids:
            self.pushed_again += 1
            return False
        self.ids[message["id"]] = key
        self.received[key].append(at)
        return True

    def complete(self) -> bool:
        return all(k in self.received and k in self.acked for k in self.sent)


@dataclass
class Socket:
    ws: Any
    events: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    conversation: int | None = None


@dataclass
class Run:
    """One system's run: its sockets and everything the readers saw."""

    c2a: Flow = field(default_factory=Flow)
    a2c: Flow = field(default_factory=Flow)
    errors: Counter[str] = field(default_factory=Counter)
    agent_of: dict[int, Socket] = field(default_factory=dict)
    widget_acks: int = 0
    closing: bool = False
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    assigned: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: list[float] = field(default_factory=list)  # when the server closed a socket
    expected: int = 0


class System:
    """What differs between kefu and the floor: addresses, headers, how a chat starts."""

    name: str
    routed: bool  # conversations reach agents by the server's routing (offer → accept)

    def __init__(self, port: int) -> None:
        self.port = port

    def widget(self, i: int) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def agent(self, j: int) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def start(self, i: int) -> dict[str, Any]:
        raise NotImplementedError


def _address(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


class Kefu(System):
    name, routed = "kefu", True

    def __init__(self, port: int, key: str, notice: str, cookies: list[str]) -> None:
        super().__init__(port)
        self.key, self.notice, self.cookies = key, notice, cookies

    def widget(self, i: int) -> tuple[str, dict[str, str]]:
        return f"ws://{HOST}:{self.port}/ws/chat/widget/{self.key}/", {
            "Origin": SITE,
            "X-Forwarded-For": _address(i),
        }

    def agent(self, j: int) -> tuple[str, dict[str, str]]:
        return f"ws://{HOST}:{self.port}/ws/chat/agent/", {
            "Cookie": self.cookies[j],
            "Origin": f"http://{HOST}:{self.port}",
        }

    def start(self, i: int) -> dict[str, Any]:
        return {
            "type": "start",
            "name": f"顾客{i}",
            "consent": True,
            "notice_version": self.notice,
            "language": "zh-hans",
            "page": "https://www.shop-bench.example/orders",
        }


class Floor(System):
    name, routed = "floor", False

    def widget(self, i: int) -> tuple[str, dict[str, str]]:
        return f"ws://{HOST}:{self.port}/ws/floor/widget/", {
            "Origin": SITE,
            "X-Forwarded-For": _address(i),
        }

    def agent(self, j: int) -> tuple[str, dict[str, str]]:
        return f"ws://{HOST}:{self.port}/ws/floor/agent/", {"Origin": f"http://{HOST}:{self.port}"}

    def start(self, i: int) -> dict[str, Any]:
        return {"type": "start", "conversation": i + 1}


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False)


async def _connect(url: str, headers: dict[str, str]) -> Any:
    from websockets.asyncio.client import connect

    return await connect(
        url,
        additional_headers=headers,
        compression=None,  # the server turns it off anyway
        ping_interval=None,  # as a browser: the server pings
        open_timeout=120,
        max_queue=None,
    )


async def _read_widget(run: Run, sock: Socket) -> None:
    c2a, a2c = run.c2a, run.a2c
    try:
        async for raw in sock.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                if frame.get("from") == "agent" and a2c.arrived(frame, frame["text"], now):
                    await sock.ws.send(_dump({"type": "ack", "id": frame["id"]}))
                    run.widget_acks += 1
            elif kind == "ack":
                if frame["cid"] in c2a.acked:
                    c2a.extra_acks += 1
                c2a.acked.setdefault(frame["cid"], now)
            elif kind == "started":
                sock.conversation = frame["conversation"]
                sock.events["started"].set()
            elif kind == "status" and frame.get("status") == "active":
                sock.events["active"].set()
            elif kind == "error":
                run.errors[f"widget error frame: {frame.get('code')}"] += 1
            elif kind == "hello":
                sock.events["hello"].set()
            elif kind not in ("typing", "read", "status"):
                run.errors[f"widget: unexpected frame {kind}"] += 1
    except Exception as exc:  # a dropped connection
        run.errors[f"widget socket: {type(exc).__name__}"] += 1
    if not run.closing:
        run.errors["widget socket closed by the server"] += 1
        run.dropped.append(time.perf_counter())


async def _read_agent(run: Run, sock: Socket) -> None:
    c2a, a2c = run.c2a, run.a2c
    try:
        async for raw in sock.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                message = frame["message"]
                if message.get("from") == "customer":
                    c2a.arrived(message, message["cid"], now)
            elif kind == "ack":
                if frame["cid"] in a2c.acked:
                    a2c.extra_acks += 1
                a2c.acked.setdefault(frame["cid"], now)
            elif kind == "offer":
                await sock.ws.send(_dump({"type": "accept", "conversation": frame["conversation"]}))
            elif kind == "conversation":
                run.agent_of[frame["conversation"]] = sock
                if len(run.agent_of) >= run.expected:
                    run.assigned.set()
            elif kind == "error":
                run.errors[f"agent error frame: {frame.get('code')}"] += 1
            elif kind in ("state", "presence"):
                sock.events[kind].set()
            elif kind not in ("chat_message", "status", "typing", "read", "delivered"):
                run.errors[f"agent: unexpected frame {kind}"] += 1
    except Exception as exc:
        run.errors[f"agent socket: {type(exc).__name__}"] += 1
    if not run.closing:
        run.errors["agent socket closed by the server"] += 1
        run.dropped.append(time.perf_counter())


async def _bounded(count: int, limit: int, make: Callable[[int], Awaitable[Any]]) -> list[Any]:
    """``make(i)`` for i < count, at most ``limit`` at once; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> Any:
        async with gate:
            return await make(i)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _wait(event: asyncio.Event, what: str, timeout: float = 120) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise SystemExit(f"timed out waiting for {what}") from None


@dataclass
class Result:
    system: str
    idle_kib: float
    c2a: list[float]
    a2c: list[float]
    c_ack: list[float]
    a_ack: list[float]
    sent: int
    lost: int
    duplicated: int
    missing_acks: int
    pushed_again: int
    errors: Counter[str]
    server_cpu: float
    server_waited: float  # the server's threads runnable but waiting for a CPU, seconds
    client_cpu: float
    window_messages: int  # delivered during the measured window
    setup_seconds: float
    drain_seconds: float
    load: float  # load average (1 min) as the measured window began
    first_drop: float | None  # s after the traffic began that the server first closed a socket
    accepted: str = ""


def _latencies(flow: Flow, since: float, until: float, acks: bool) -> list[float]:
    out: list[float] = []
    for key, t0 in flow.sent.items():
        if not since <= t0 < until:
            continue
        seen = [flow.acked[key]] if acks and key in flow.acked else flow.received.get(key, [])[:1]
        out.extend((t - t0) * 1000 for t in seen)
    return out


async def exercise(
    system: System, server: Server, args: argparse.Namespace, profile: Path | None
) -> Result:
    run = Run(expected=args.conversations)
    rng = random.Random(7)
    loop = asyncio.get_running_loop()

    async def open_widget(i: int) -> Socket:
        url, headers = system.widget(i)
        sock = Socket(await _connect(url, headers))
        run.readers.append(loop.create_task(_read_widget(run, sock)))
        await _wait(sock.events["hello"], "the widget's hello")
        return sock

    # 1. Memory per idle connection (after a warm-up: first sockets load code and caches).
    warm = await _bounded(20, 20, open_widget)
    run.closing = True
    await asyncio.gather(*(s.ws.close() for s in warm))
    await asyncio.sleep(1)
    run.closing = False
    before = rss_kib(server.pid)
    idle = await _bounded(args.conversations, 50, open_widget)
    await asyncio.sleep(2)
    after = rss_kib(server.pid)
    idle_kib = (after - before) / len(idle)
    log(f"{system.name}: {len(idle)} idle widget sockets, {idle_kib:.1f} KiB each")
    run.closing = True
    await asyncio.gather(*(s.ws.close() for s in idle))
    await asyncio.sleep(2)
    run.closing = False
    run.readers.clear()

    # 2. Agents online, conversations started and taken, through the protocol.
    setup_started = time.perf_counter()

    async def open_agent(j: int) -> Socket:
        url, headers = system.agent(j)
        sock = Socket(await _connect(url, headers))
        run.readers.append(loop.create_task(_read_agent(run, sock)))
        await _wait(sock.events["state"], "the agent's state")
        if system.routed:
            await sock.ws.send(
                _dump({"type": "presence", "state": "online", "max_chats": args.max_chats})
            )
            await _wait(sock.events["presence"], "the agent's presence")
        return sock

    agents = await _bounded(args.agents, 10, open_agent)

    async def open_customer(i: int) -> Socket:
        sock = await open_widget(i)
        await sock.ws.send(_dump(system.start(i)))
        await _wait(sock.events["started"], "the chat to start")
        if not system.routed:
            assert sock.conversation is not None
            await agents[i % len(agents)].ws.send(
                _dump({"type": "join", "conversation": sock.conversation})
            )
        return sock

    customers = await _bounded(args.conversations, 20, open_customer)
    await _wait(run.assigned, "every chat to reach an agent", timeout=600)
    if system.routed:
        for sock in customers:
            await _wait(sock.events["active"], "the widget to hear its chat is taken")
    setup_seconds = time.perf_counter() - setup_started
    log(
        f"{system.name}: {len(customers)} conversations with {len(agents)} agents "
        f"in {setup_seconds:.1f} s"
    )

    # 3. Traffic: warm-up, measured window, drain.
    t0 = time.perf_counter() + 1
    measured_from = t0 + args.warmup
    end = measured_from + args.duration
    interval = args.interval

    async def until(t: float) -> None:
        delay = t - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    async def send(flow: Flow, key: str, sock: Socket, frame: dict[str, Any]) -> bool:
        flow.sent[key] = time.perf_counter()
        try:
            await sock.ws.send(_dump(frame))
        except ConnectionClosed:
            del flow.sent[key]
            run.errors["conversation stopped: its socket was closed"] += 1
            return False
        return True

    async def talk(customer: Socket) -> None:
        conversation = customer.conversation
        assert conversation is not None
        agent = run.agent_of[conversation]
        t = t0 + rng.random() * interval
        seq = 0
        while t < end:
            await until(t)
            cid = f"c{conversation}.{seq}"
            text = f"{cid} {rng.choice(CUSTOMER_LINES)}"
            if not await send(
                run.c2a, cid, customer, {"type": "message", "cid": cid, "text": text}
            ):
                return
            await until(t + interval / 2)
            nonce = f"a{conversation}.{seq}"
            text = f"{nonce} {rng.choice(AGENT_LINES)}"
            frame = {"type": "message", "conversation": conversation, "cid": nonce, "text": text}
            if not await send(run.a2c, nonce, agent, frame):
                return
            seq += 1
            t += interval

    async def window_marks() -> tuple[float, float, float]:
        await until(measured_from)
        if profile is not None:
            (profile / "start").touch()
        (ran0, waited0), client0 = sched_seconds(server.pid), time.process_time()
        loads.append(os.getloadavg()[0])
        await until(end)
        if profile is not None:
            (profile / "stop").touch()
        ran, waited = sched_seconds(server.pid)
        return ran - ran0, waited - waited0, time.process_time() - client0

    loads: list[float] = []
    marks = loop.create_task(window_marks())
    await asyncio.gather(*(talk(c) for c in customers))
    server_cpu, server_waited, client_cpu = await marks
    # Drain: wait for the last messages while they still arrive (an overloaded server works
    # through its backlog), at most --drain seconds; what never arrives is lost.
    drained_at = time.perf_counter()
    deadline, last_change, seen = drained_at + args.drain, drained_at, -1
    while time.perf_counter() < deadline and not (run.c2a.complete() and run.a2c.complete()):
        count = sum(len(f.received) + len(f.acked) for f in (run.c2a, run.a2c))
        if count != seen:
            seen, last_change = count, time.perf_counter()
        elif time.perf_counter() - last_change > 10:
            break
        await asyncio.sleep(0.2)
    drain_seconds = time.perf_counter() - drained_at
    await asyncio.sleep(1)  # late duplicates

    accepted = ""
    if system.routed:
        accepted = await asyncio.to_thread(_accepted_replies, run.widget_acks)
    run.closing = True
    await asyncio.gather(*(s.ws.close() for s in [*customers, *agents]))
    await asyncio.gather(*run.readers, return_exceptions=True)

    lost = dup = missing = 0
    for flow in (run.c2a, run.a2c):
        for key in flow.sent:
            got = len(flow.received.get(key, []))
            lost += got == 0
            dup += max(0, got - 1)
            missing += key not in flow.acked
        dup += flow.extra_acks + sum(1 for k in flow.received if k not in flow.sent)
    # Messages the server delivered during the window (an overloaded one delivers fewer
    # than were sent): the CPU figures are per delivered message.
    window = sum(
        measured_from <= times[0] < end
        for flow in (run.c2a, run.a2c)
        for times in flow.received.values()
    )
    return Result(
        system=system.name,
        idle_kib=idle_kib,
        c2a=_latencies(run.c2a, measured_from, end, acks=False),
        a2c=_latencies(run.a2c, measured_from, end, acks=False),
        c_ack=_latencies(run.c2a, measured_from, end, acks=True),
        a_ack=_latencies(run.a2c, measured_from, end, acks=True),
        sent=len(run.c2a.sent) + len(run.a2c.sent),
        lost=lost,
        duplicated=dup,
        missing_acks=missing,
        pushed_again=run.c2a.pushed_again + run.a2c.pushed_again,
        errors=run.errors,
        server_cpu=server_cpu,
        server_waited=server_waited,
        client_cpu=client_cpu,
        window_messages=window,
        setup_seconds=setup_seconds,
        drain_seconds=drain_seconds,
        load=loads[0] if loads else float("nan"),
        first_drop=min(run.dropped) - t0 if run.dropped else None,
        accepted=accepted,
    )


def _accepted_replies(acks_sent: int) -> str:
    """How many agent replies kefu recorded as accepted (the widget acknowledged them),
    once the server has handled every acknowledgement sent, or after 20 s."""
    from django.db import connections

    from kefu.tickets.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + 20
    try:
        while True:
            replies = Delivery.objects.filter(channel="chat", is_reply=True)
            accepted = replies.filter(status=DeliveryStatus.SENT).count()
            if accepted >= acks_sent or time.monotonic() > deadline:
                return f"{accepted} of {replies.count()} replies accepted ({acks_sent} acks sent)"
            time.sleep(0.5)
    finally:
        connections.close_all()


# ---------------------------------------------------------------------------------------
# set-up, report


def _prepare_kefu(args: argparse.Namespace) -> tuple[str, str, list[str]]:
    """A fresh kefu database with a client, its widget and the agents; the widget's key,
    notice version and one session cookie per agent."""
    from fresh_kefu import fresh_kefu

    fresh_kefu(args.db, PG_DATABASE)
    from django.db import connections
    from django.test import Client as HttpClient

    from kefu.accounts.models import User
    from kefu.accounts.roles import Role
    from kefu.chat.services import widget_create
    from kefu.contracts.services import client_create

    client = client_create(code="BENCH", name="基准测试甲方")
    widget = widget_create(client=client, origins=[SITE], name="官网")
    cookies = []
    for j in range(args.agents):
        agent = User.objects.create(username=f"bench_agent_{j}", role=Role.AGENT)
        agent.clients.add(client)
        http = HttpClient()
        http.force_login(agent)
        cookies.append(f"sessionid={http.cookies['sessionid'].value}")
    connections.close_all()
    return widget.key, widget.notice_version, cookies


def service_costs(repeat: int = 50) -> list[str]:
    """What kefu's server does per chat message, in this process on the run's database
    (after the run): SQL statements and CPU per call of the service each socket frame
    calls, with the consumer's own read of the conversation before it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kefu.chat import services
    from kefu.chat.acks import acks_write
    from kefu.chat.consumers import _agent_message, _on_widget_conversation
    from kefu.chat.models import Conversation, ConversationStatus
    from kefu.tickets.models import Delivery, DeliveryStatus, Message

    chats = list(
        Conversation.objects.filter(status=ConversationStatus.ACTIVE).select_related("agent")[
            :repeat
        ]
    )
    if not chats:
        return ["no active conversation left to measure on"]
    replies: list[Message] = []
    batch = 10  # acknowledgements per transaction in the batched measurement

    def customer(i: int) -> int:  # WidgetConsumer.on_message: one call on the database thread
        chat = chats[i % len(chats)]
        _on_widget_conversation(
            chat.pk, services.conversation_customer_message, {"cid": f"cost-{i}", "text": "计数"}
        )
        return 1

    def agent(i: int) -> int:  # AgentConsumer.on_message (its user is read once per socket)
        chat = chats[i % len(chats)]
        assert chat.agent is not None
        replies.append(_agent_message(chat.agent, chat.pk, "计数"))
        return 1

    def ack(i: int) -> int:  # kefu/chat/acks.py with one acknowledgement waiting
        chat = chats[i % len(chats)]
        acks_write([(chat.pk, replies[i].pk, timezone.now())])
        return 1

    def acks(i: int) -> int:  # … with ``batch`` waiting
        first = repeat + i * batch
        taken = [
            (chats[j % len(chats)].pk, replies[j].pk, timezone.now())
            for j in range(first, first + batch)
        ]
        acks_write(taken)
        return batch

    lines = []
    for label, step, times in (
        ("customer message", customer, 2 * repeat),
        ("agent reply", agent, 2 * repeat),
        ("widget acknowledgement", ack, repeat),
        (f"… {batch} in a transaction", acks, repeat // batch),
    ):
        with CaptureQueriesContext(connection) as queries:
            n = step(0)
        statements = len(queries) / n
        started, done = time.process_time(), 0
        for i in range(1, times):
            done += step(i)
        cpu = (time.process_time() - started) / done * 1000
        lines.append(f"  {label:24} {statements:5.1f} SQL statements, {cpu:5.2f} ms CPU each")
    accepted = Delivery.objects.filter(message__in=replies, status=DeliveryStatus.SENT).count()
    assert accepted == len(replies), f"{accepted} of {len(replies)} replies accepted"
    return lines


def _pct(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def report(results: dict[str, Result], args: argparse.Namespace, load: float, layer: str) -> bool:
    """Print the table and the targets; whether every target was met."""
    floor, kefu = results.get("floor"), results.get("kefu")
    rate = 2 * args.conversations / args.interval
    print(
        f"\nlive chat: {args.conversations} conversations, {args.agents} agents × "
        f"{args.max_chats} chats, one message each way per conversation every "
        f"{args.interval:g} s ({rate:.0f} messages/s), {args.duration:g} s measured after "
        f"{args.warmup:g} s\n  database {args.db}, layer {layer}; one server process each; "
        f"load average {load:.2f} before the run on {os.cpu_count()} CPUs; the load generator "
        f"(one process, uvloop) shares them\n"
    )
    head = f"{'':24}{'system':8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'count':>8}"
    print(head + f"{'p50 / floor':>13}{'p99 / floor':>13}")
    rows = [
        ("customer → agent", "c2a"),
        ("agent → customer", "a2c"),
        ("customer's ack", "c_ack"),
        ("agent's ack", "a_ack"),
    ]
    for label, attr in rows:
        for name, result in results.items():
            values: list[float] = getattr(result, attr)
            p50, p99 = _pct(values, 0.5), _pct(values, 0.99)
            ratio = ""
            if name == "kefu" and floor is not None:
                base: list[float] = getattr(floor, attr)
                ratio = f"{p50 / _pct(base, 0.5):12.2f}×{p99 / _pct(base, 0.99):12.2f}×"
            print(
                f"{label if name == next(iter(results)) else '':24}{name:8}{p50:9.1f}{p99:9.1f}"
                f"{max(values, default=float('nan')):9.1f}{len(values):8d}{ratio}"
            )
    print()
    for name, r in results.items():
        per_msg = r.server_cpu / r.window_messages * 1000 if r.window_messages else float("nan")
        client = r.client_cpu / r.window_messages * 1000 if r.window_messages else float("nan")
        print(
            f"{name:6} server CPU {r.server_cpu / args.duration:4.0%} of a core in the window "
            f"({per_msg:.2f} ms per message delivered in it, {r.window_messages}), load generator "
            f"{client:.2f} ms\n"
            f"       runnable but waiting for a CPU {r.server_waited / args.duration:.0%} of the "
            f"window (its threads summed); load average {r.load:.2f} as the window began\n"
            f"       "
            f"memory per idle widget socket {r.idle_kib:.1f} KiB; set-up "
            f"{r.setup_seconds:.1f} s; last message {r.drain_seconds:.1f} s after the window"
        )
        print(
            f"       messages sent {r.sent}, lost {r.lost}, duplicated {r.duplicated}, "
            f"acknowledgements missing {r.missing_acks}, pushed again (same id) {r.pushed_again}"
            + (f"; {r.accepted}" if r.accepted else "")
        )
        if r.first_drop is not None:
            print(
                f"       first socket closed by the server {r.first_drop:.1f} s after traffic began"
            )
        for error, count in r.errors.most_common():
            print(f"       error: {error} × {count}")
    met = True
    if kefu is not None:
        print("\ntargets (kefu, one server process):")
        for label, attr in rows[:2]:
            p99 = _pct(getattr(kefu, attr), 0.99)
            ok = p99 < TARGET_P99_MS
            met &= ok
            line = (
                f"  {label}: p99 {p99:.1f} ms < {TARGET_P99_MS:.0f} ms: {'met' if ok else 'MISSED'}"
            )
            if floor is not None:
                fp99 = _pct(getattr(floor, attr), 0.99)
                within = p99 <= TARGET_RATIO * fp99
                met &= within
                line += (
                    f"; within {TARGET_RATIO:g}× the floor's p99 ({fp99:.1f} ms): "
                    f"{'met' if within else 'MISSED'} ({p99 / fp99:.2f}×)"
                )
            print(line)
        if floor is not None:
            print(
                f"  memory per idle connection: kefu {kefu.idle_kib:.1f} KiB, floor "
                f"{floor.idle_kib:.1f} KiB ({kefu.idle_kib / max(floor.idle_kib, 0.1):.2f}×)"
            )
    return met


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--redis", default="", help="REDIS_URL for the layer (default: in memory)")
    p.add_argument("--conversations", type=int, default=1000, help="concurrent chats (1000)")
    p.add_argument("--agents", type=int, default=0, help="agents (conversations / max chats)")
    p.add_argument("--max-chats", type=int, default=20, help="chats per agent (20, kefu's most)")
    p.add_argument("--interval", type=float, default=10.0, help="s between a chat's messages")
    p.add_argument("--warmup", type=float, default=20.0, help="s of traffic not measured (20)")
    p.add_argument("--duration", type=float, default=60.0, help="s measured (60)")
    p.add_argument(
        "--drain", type=float, default=300.0, help="s at most for the last messages (300)"
    )
    p.add_argument("--only", choices=["kefu", "floor"], help="one system, no ratio")
    p.add_argument("--no-worker", action="store_true", help="no `kefu worker` on PostgreSQL")
    p.add_argument(
        "--serve-worker",
        choices=["auto", "yes", "no"],
        default="auto",
        help="`kefu serve --worker`: the in-process task worker (auto: on SQLite, as default)",
    )
    p.add_argument("--profile", type=Path, help="sample kefu's server threads into DIR")
    p.add_argument("--keep", action="store_true", help="keep the server logs and the database")
    p.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.floor_server:
        floor_server(args.floor_server)
        return 0
    args.agents = args.agents or math.ceil(args.conversations / args.max_chats)
    if args.agents * args.max_chats < args.conversations:
        p.error("--agents × --max-chats must hold --conversations")
    if args.db == "postgres" and not args.redis:
        log("note: PostgreSQL without --redis: one server process needs no Redis; in memory")

    load = os.getloadavg()[0]
    os.environ["KEFU_LOG_LEVEL"] = "WARNING"
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
        os.environ["KEFU_REDIS_PREFIX"] = "kefu-bench-chat"
    else:
        os.environ.pop("REDIS_URL", None)
    key, notice, cookies = _prepare_kefu(args)
    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    env = {**os.environ, "KEFU_TRUSTED_PROXIES": HOST, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    python = sys.executable
    results: dict[str, Result] = {}
    worker: subprocess.Popen[bytes] | None = None
    import uvloop

    try:
        if args.only != "kefu":
            port = free_port()
            floor = Server(
                "floor",
                [python, __file__, "--floor-server", str(port)],
                env,
                ROOT,
                port,
                work / "floor.log",
            )
            floor.start()
            try:
                results["floor"] = uvloop.run(exercise(Floor(port), floor, args, None))
            finally:
                floor.stop()
        if args.only != "floor":
            port = free_port()
            serve = ["-m", "kefu", "serve", "--port", str(port), "--worker", args.serve_worker]
            profile = args.profile.resolve() if args.profile else None
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                for stale in ("start", "stop", "report.txt"):
                    (profile / stale).unlink(missing_ok=True)
                serve = [str(ROOT / "bench" / "profile_server.py"), str(profile), *serve]
            server = Server("kefu serve", [python, *serve], env, ROOT, port, work / "kefu.log")
            if args.db == "postgres" and not args.no_worker:
                with (work / "worker.log").open("ab") as out:
                    worker = subprocess.Popen(
                        [python, "-m", "kefu", "worker"], env=env, cwd=ROOT, stdout=out, stderr=out
                    )
            server.start()
            try:
                results["kefu"] = uvloop.run(
                    exercise(Kefu(port, key, notice, cookies), server, args, profile)
                )
            finally:
                server.stop()
            if profile is not None:
                log(f"profile of the measured window: {profile / 'report.txt'}")
    finally:
        if worker is not None:
            worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=15)
        if args.keep:
            log(f"server logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    met = report(results, args, load, layer)
    if "kefu" in results:
        print(
            "\nkefu's services per frame, in-process after the run (the consumer's read included):"
        )
        print("\n".join(service_costs()))
    if not args.keep:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(os.environ["KEFU_VAR_DIR"], ignore_errors=True)  # the SQLite file, uploads
        if args.db == "postgres":
            subprocess.run(
                ["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", "--force", PG_DATABASE],
                check=False,
            )
    failed = any(r.lost or r.duplicated or r.missing_acks or r.errors for r in results.values())
    if failed:
        print("\nERRORS: messages lost or duplicated, or errors (see above)")
    print(f"targets {'met' if met else 'missed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
