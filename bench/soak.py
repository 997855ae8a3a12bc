"""Soak: a deployment as the README describes it, under mixed traffic for a fixed time.

    .venv/bin/python bench/soak.py [--duration 600] [--rate 200] [--chats 300]

Loopback only, bounded in time, everything started by the script and stopped at the end: a
private PostgreSQL and Redis (own ports and data directories: kefu/core/tests/instances.py),
two ``kefu serve`` processes behind Debian's nginx with the sample site
(deploy/nginx/kefu.conf), one ``kefu worker``, one ``kefu scheduler``, ``kefu email listen``
for inbound mail and an SMTP sink standing in for the mail provider that outbound replies go
to.

Traffic, open loop at ``--rate`` requests a second in all (each is scheduled at its time
whether or not the earlier ones have finished; its latency counts from that time):

- ``api_create``: a ticket through the API (an e-mail customer from a pool);
- ``api_reply``: an agent's public reply to one of them through the API (queued, sent by
  the worker to the SMTP sink);
- ``queue``, ``ticket``: an agent's pages (the queue, a ticket), with a session cookie;
- ``email``: a customer's e-mail to the listener over SMTP;
- ``chat``: ``--chats`` widget conversations over WebSockets through nginx, each sending a
  message in turn (the rest of the rate), acknowledged by kefu.

Reported: per kind the count, p50/p99 latency and errors; the resident memory, open files of
each kefu process (and PostgreSQL's backends, Redis) at the start and end of the measured
window; PostgreSQL connections and Redis clients. Targets (issue 19): 0 errors, p99 under
500 ms, memory growth under 10 %; the exit status is 1 when one is missed.

bench/faults.py runs the same stack and traffic while it breaks parts of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from servers import log, rss_kib  # noqa: E402

from kefu.core.tests.instances import PrivatePostgres, PrivateRedis, free_port  # noqa: E402

HOST = "127.0.0.1"
PYTHON = sys.executable
SAMPLE = ROOT / "deploy" / "nginx" / "kefu.conf"
SITE = "https://www.shop-soak.example"
CLIENT = "SOAK"
MAILBOX = "support@soak.example"
REPLY_MARK = re.compile(r"SOAKR-[0-9]+-[0-9]+")
KINDS = ("api_create", "api_reply", "queue", "ticket", "email", "chat")
# Shares of the HTTP and mail part of the rate; chats send the rest (see Traffic).
WEIGHTS = {"api_create": 0.25, "api_reply": 0.2, "queue": 0.25, "ticket": 0.2, "email": 0.1}

SETUP = """
import json
from django.test import Client as HttpClient
from kefu.accounts.models import User
from kefu.chat.models import ChatWidget
from kefu.contracts.models import Client
from kefu.mail.models import Mailbox
client = Client.objects.get(code={client!r})
agent = User.objects.create_user("soak-agent", role="agent", display_name="压测坐席")
agent.clients.add(client)
Mailbox.objects.create(
    client=client, address={mailbox!r}, smtp_host="127.0.0.1", smtp_port={smtp_port},
    smtp_security="none",
)
ChatWidget.objects.filter(client=client).update(max_wait_seconds=86400)
http = HttpClient()
http.force_login(agent)
print("SOAK", json.dumps({{"cookie": http.cookies["sessionid"].value, "agent": agent.pk}}))
"""


# ---------------------------------------------------------------------------------------
# the stack


class Sink:
    """The mail provider: an SMTP server on loopback that counts what it is given."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.received: Counter[str] = Counter()
        self.message_ids: dict[str, set[str]] = defaultdict(set)
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mail = message_from_bytes(envelope.content, policy=default_policy)
                part = mail.get_body(preferencelist=("plain", "html"))
                text = part.get_content() if part is not None else ""
                # The reply's own words come first; the thread quoted below it may name
                # earlier replies.
                first = REPLY_MARK.search(text)
                key = first.group(0) if first else "(no marker)"
                with sink.lock:
                    sink.received[key] += 1
                    sink.message_ids[key].add(str(mail["Message-ID"]))
                return "250 OK"

        self.controller = Controller(Handler(), hostname=HOST, port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def _wait_http(port: int, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing answers {path} on port {port}")
        time.sleep(0.2)


class Stack:
    """PostgreSQL, Redis, two servers behind nginx, a worker, the mail listener, the sink."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis()
        self.sink = Sink()
        self.procs: dict[str, Proc] = {}
        self.nginx: subprocess.Popen[bytes] | None = None
        self.listen = free_port()
        self.mail_port = free_port()
        self.ports = (free_port(), free_port())
        self.env: dict[str, str] = {}
        self.token = self.cookie = self.widget = ""

    def kefu(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "-m", "kefu", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(
                f"kefu {' '.join(args)}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return result.stdout

    def start(self) -> None:
        log("private PostgreSQL and Redis")
        self.pg.start()
        self.pg.createdb("kefu")
        self.redis.start()
        self.sink.start()
        var = self.work / "var"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.pg.url("kefu"),
            "REDIS_URL": self.redis.url(),
            "KEFU_VAR_DIR": str(var),
            "KEFU_TRUSTED_PROXIES": "127.0.0.1",
            "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_DB_POOL_MAX": "20",
        }
        log("migrate and set up the client")
        self.kefu("migrate", "--noinput", "-v", "0")
        self.kefu("client", "create", "--code", CLIENT, "--name", "压测甲方")
        made = self.kefu("chat", "widget", "create", "--client", CLIENT, "--origin", SITE)
        self.widget = json.loads(made.strip().splitlines()[-1])["key"]
        out = self.kefu(
            "shell",
            "-c",
            SETUP.format(client=CLIENT, mailbox=MAILBOX, smtp_port=self.sink.port),
        )
        facts = json.loads(next(x for x in out.splitlines() if x.startswith("SOAK "))[5:])
        self.cookie = facts["cookie"]
        token = self.kefu(
            "token", "create", "--user", "soak-agent", "--name", "soak", "--scope", "write"
        )
        self.token = token.strip().splitlines()[-1]
        for i, port in enumerate(self.ports):
            self.add(f"server{i + 1}", "serve", "--port", str(port), "--worker", "no")
        self.add("worker", "worker")
        self.add("scheduler", "scheduler")
        self.add("mail-listener", "email", "listen", "--port", str(self.mail_port))
        for proc in self.procs.values():
            proc.start()
        for port in self.ports:
            _wait_http(port)
        self.start_nginx()
        _wait_http(self.listen)

    def add(self, name: str, *args: str) -> None:
        self.procs[name] = Proc(
            name, [PYTHON, "-m", "kefu", *args], self.env, self.work / f"{name}.log"
        )

    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = self.work / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        site = SAMPLE.read_text(encoding="utf-8")
        for old, new in (
            ("listen 80;", f"listen {HOST}:{self.listen};"),
            ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{self.ports[0]} "),
            ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{self.ports[1]} "),
        ):
            if old not in site:
                raise SystemExit(f"deploy/nginx/kefu.conf no longer has {old!r}")
            site = site.replace(old, new)
        (prefix / "site.conf").write_text(site, encoding="utf-8")
        temp = " ".join(
            f"{k}_temp_path {prefix}/{k};"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"pid {prefix}/nginx.pid; error_log {prefix}/error.log warn;\n"
            "worker_processes 1; events { worker_connections 4096; }\n"
            f"http {{ include /etc/nginx/mime.types; access_log off; {temp}\n"
            f"include {prefix}/site.conf; }}\n",
            encoding="utf-8",
        )
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)
        self.sink.stop()
        self.redis.stop()
        self.pg.remove()

    def psql(self, sql: str) -> str:
        result = subprocess.run(
            ["psql", "-h", HOST, "-p", str(self.pg.port), "-U", "postgres", "-Atc", sql, "kefu"],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    def sample(self) -> dict[str, dict[str, float]]:
        """Memory (KiB) and open files of each process, and the connection counts."""
        out: dict[str, dict[str, float]] = {}
        for name, proc in self.procs.items():
            if proc.alive():
                with contextlib.suppress(OSError, RuntimeError):
                    out[name] = {
                        "rss_kib": rss_kib(proc.pid),
                        "fds": len(os.listdir(f"/proc/{proc.pid}/fd")),
                    }
        backends = self.psql("select count(*) from pg_stat_activity where datname = 'kefu'")
        out["postgres"] = {"connections": float(backends or 0)}
        with contextlib.suppress(Exception):
            import redis

            info = redis.Redis(host=HOST, port=self.redis.port).info()
            out["redis"] = {
                "rss_kib": info["used_memory_rss"] / 1024,
                "clients": info["connected_clients"],
            }
        return out


# ---------------------------------------------------------------------------------------
# traffic


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    # What kefu acknowledged, for bench/faults.py to look for afterwards.
    tickets: list[str] = field(default_factory=list)  # subject markers of 201 creates
    replies: list[str] = field(default_factory=list)  # body markers of 201 replies
    emails: list[str] = field(default_factory=list)  # markers of mails the listener took
    chat_acks: dict[str, int] = field(default_factory=dict)  # cid -> message id
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[(kind, what[:120])] += 1


class Traffic:
    """Open-loop HTTP/SMTP requests from a pool of threads and chat sockets on one event
    loop, until ``stop`` is set."""

    def __init__(self, stack: Stack, rate: float, chats: int, chat_interval: float, seed: int):
        self.stack = stack
        self.rate = rate
        self.chats = chats
        self.chat_interval = chat_interval
        self.results = Results()
        self.stop = threading.Event()
        self.measuring = threading.Event()
        self.rng = random.Random(seed)
        self.jobs: queue.Queue[tuple[str, float] | None] = queue.Queue()
        self.created: list[int] = []  # ticket ids for replies and pages
        self.serial = 0
        self.serial_lock = threading.Lock()
        self.chat_ready = threading.Event()

    def marker(self, prefix: str) -> str:
        with self.serial_lock:
            self.serial += 1
            return f"{prefix}-{os.getpid()}-{self.serial}"

    # --- HTTP and mail

    def _conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.stack.listen, timeout=30)

    def _do(self, conn: http.client.HTTPConnection, kind: str, rng: random.Random) -> None:
        auth = {"Authorization": f"Bearer {self.stack.token}", "Content-Type": "application/json"}
        page = {"Cookie": f"sessionid={self.stack.cookie}"}
        if (kind == "api_reply" or kind == "ticket") and not self.created:
            kind = "api_create"
        if kind == "api_create":
            mark = self.marker("SOAKT")
            n = rng.randrange(3000)
            body = {
                "client": CLIENT,
                "subject": f"{mark} 订单迟迟没有发货",
                "body": "我在 11 月 3 日下的订单，到现在还显示待发货，请帮忙查一下。",
                "channel": "email",
                "customer": {"name": f"顾客{n}", "email": f"soak{n:05d}@example.com"},
            }
            status, data = self._request(conn, "POST", "/api/v1/tickets", body, auth)
            if status == 201:
                with self.results.lock:
                    self.results.tickets.append(mark)
                    self.created.append(int(data["id"]))
            return self._check(kind, status, 201)
        if kind == "api_reply":
            mark = self.marker("SOAKR")
            ticket = rng.choice(self.created)
            body = {"direction": "out", "body": f"您好，已为您查询 {mark}，请稍候。"}
            path = f"/api/v1/tickets/{ticket}/messages"
            status, _ = self._request(conn, "POST", path, body, auth)
            if status == 201:
                with self.results.lock:
                    self.results.replies.append(mark)
            return self._check(kind, status, 201)
        if kind == "queue":
            status, _ = self._request(conn, "GET", "/tickets/", None, page)
            return self._check(kind, status, 200)
        if kind == "ticket":
            status, _ = self._request(
                conn, "GET", f"/tickets/{rng.choice(self.created)}/", None, page
            )
            return self._check(kind, status, 200)
        raise AssertionError(kind)

    def _request(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(raw)
        return response.status, None

    def _check(self, kind: str, status: int, wanted: int) -> None:
        if status != wanted:
            raise RuntimeError(f"HTTP {status}")

    def _email(self) -> None:
        mark = self.marker("SOAKE")
        msg = EmailMessage()
        msg["From"] = f"顾客 <mail{self.rng.randrange(500):04d}@example.com>"
        msg["To"] = MAILBOX
        msg["Subject"] = f"{mark} 发票抬头开错了"
        msg["Message-ID"] = f"<{mark}@example.com>"
        msg.set_content(f"上周开的发票抬头写错了，需要重开。{mark}")
        with smtplib.SMTP(HOST, self.stack.mail_port, timeout=30) as smtp:
            smtp.send_message(msg)
        with self.results.lock:
            self.results.emails.append(mark)

    def _worker(self) -> None:
        rng = random.Random(threading.get_ident())
        conn = self._conn()
        while True:
            job = self.jobs.get()
            if job is None:
                return
            kind, due = job
            try:
                if kind == "email":
                    self._email()
                else:
                    self._do(conn, kind, rng)
            except Exception as exc:
                if self.measuring.is_set():
                    self.results.error(kind, f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = self._conn()
                continue
            if self.measuring.is_set():
                self.results.ok(kind, time.perf_counter() - due)

    def _dispatch(self, http_rate: float) -> None:
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        interval = 1 / http_rate
        due = time.perf_counter()
        while not self.stop.is_set():
            due += interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.jobs.put((self.rng.choices(kinds, weights)[0], due))

    # --- chats

    async def _chat(self, i: int, start_at: float) -> None:
        """One customer's conversation: start it, then a message every ``chat_interval``
        seconds; on a dropped socket, reconnect and resume the conversation, sending the
        message again under the same client id (kefu stores it once)."""
        from websockets.asyncio.client import connect

        url = f"ws://{HOST}:{self.stack.listen}/ws/chat/widget/{self.stack.widget}/"
        headers = {"Origin": SITE, "X-Forwarded-For": f"10.9.{i // 256}.{i % 256}"}
        conversation: int | None = None
        token = ""
        seq = 0
        next_at = start_at
        pending: tuple[str, float] | None = None  # cid, due: sent, not yet acknowledged
        while not self.stop.is_set():
            try:
                async with connect(
                    url, additional_headers=headers, open_timeout=30, ping_interval=None
                ) as ws:
                    hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if hello.get("type") != "hello":
                        raise RuntimeError(f"refused: {hello.get('code')}")
                    if conversation is None:
                        await ws.send(
                            json.dumps(
                                {
                                    "type": "start",
                                    "name": f"访客{i}",
                                    "consent": True,
                                    "notice_version": hello["notice"]["version"],
                                    "language": "zh-hans",
                                    "page": f"{SITE}/orders",
                                }
                            )
                        )
                        wanted = "started"
                    else:
                        await ws.send(
                            json.dumps(
                                {"type": "resume", "conversation": conversation, "token": token}
                            )
                        )
                        wanted = "resumed"
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if frame.get("type") == wanted:
                            break
                    if conversation is None:
                        conversation, token = frame["conversation"], frame["token"]
                        self.chat_ready_count += 1
                    while not self.stop.is_set():
                        if pending is None:
                            delay = next_at - time.perf_counter()
                            if delay > 0:
                                await asyncio.sleep(min(delay, 1.0))
                                continue
                            pending = (f"s{i}.{seq}", next_at)
                            seq += 1
                            next_at += self.chat_interval
                        cid, due = pending
                        await ws.send(
                            json.dumps({"type": "message", "cid": cid, "text": f"{cid} 请问在吗？"})
                        )
                        while True:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                            if frame.get("type") == "ack" and frame.get("cid") == cid:
                                break
                            if frame.get("type") == "error" and frame.get("ref") == cid:
                                raise RuntimeError(f"error frame {frame.get('code')}")
                        with self.results.lock:
                            self.results.chat_acks[cid] = frame["id"]
                        if self.measuring.is_set():
                            self.results.ok("chat", time.perf_counter() - due)
                        pending = None
            except Exception as exc:
                if self.stop.is_set():
                    return
                if self.measuring.is_set():
                    self.results.error("chat", f"{type(exc).__name__}: {exc}")
                with self.results.lock:
                    self.results.reconnects += 1
                await asyncio.sleep(1 + random.random())

    def _chats(self) -> None:
        async def run() -> None:
            now = time.perf_counter()
            tasks = [
                asyncio.create_task(
                    self._chat(i, now + 5 + self.chat_interval * i / max(1, self.chats))
                )
                for i in range(self.chats)
            ]
            await asyncio.gather(*tasks)

        asyncio.run(run())

    # --- running

    def start(self, threads: int = 48) -> None:
        self.chat_ready_count = 0
        chat_rate = self.chats / self.chat_interval if self.chats else 0.0
        http_rate = max(1.0, self.rate - chat_rate)
        self.threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(threads)]
        self.threads.append(threading.Thread(target=self._dispatch, args=(http_rate,), daemon=True))
        if self.chats:
            self.threads.append(threading.Thread(target=self._chats, daemon=True))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for _ in range(100):
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=60)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: Results, seconds: float) -> tuple[int, float]:
    """Print the per-kind table; (errors, worst p99 in ms)."""
    print(f"{'kind':12} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    errors_by_kind = Counter()
    for (kind, _what), n in results.errors.items():
        errors_by_kind[kind] += n
    worst = 0.0
    for kind in KINDS:
        values = results.latencies.get(kind, [])
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        if values:
            worst = max(worst, p99)
        print(
            f"{kind:12} {len(values):7d} {len(values) / seconds:7.1f} {p50:8.1f} {p99:8.1f}"
            f" {errors_by_kind[kind]:7d}"
        )
    for (kind, what), n in results.errors.most_common(12):
        print(f"  error {kind}: {what} ×{n}")
    return sum(errors_by_kind.values()), worst


def memory_report(start: dict[str, dict[str, float]], end: dict[str, dict[str, float]]) -> float:
    """Print each process's figures at the start and end; the worst memory growth (%)."""
    worst = 0.0
    print(f"{'process':14} {'RSS start MiB':>14} {'RSS end MiB':>12} {'growth':>8} {'fds':>10}")
    for name in end:
        a, b = start.get(name, {}), end[name]
        if "rss_kib" in b and "rss_kib" in a:
            growth = (b["rss_kib"] - a["rss_kib"]) / a["rss_kib"] * 100
            if name not in ("redis",):
                worst = max(worst, growth)
            fds = f"{a.get('fds', 0):.0f}→{b.get('fds', 0):.0f}" if "fds" in b else ""
            print(
                f"{name:14} {a['rss_kib'] / 1024:14.1f} {b['rss_kib'] / 1024:12.1f}"
                f" {growth:+7.1f}% {fds:>10}"
            )
    pg = (start.get("postgres", {}).get("connections"), end.get("postgres", {}).get("connections"))
    rc = (start.get("redis", {}).get("clients"), end.get("redis", {}).get("clients"))
    print(f"PostgreSQL connections {pg[0]:.0f} → {pg[1]:.0f}; Redis clients {rc[0]} → {rc[1]}")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600, help="measured seconds (600)")
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--rate", type=float, default=200, help="requests a second in all (200)")
    ap.add_argument("--chats", type=int, default=300)
    ap.add_argument(
        "--chat-interval", type=float, default=30, help="seconds between a chat's messages"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = ROOT / "var" / "bench" / f"soak-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    stack = Stack(work)
    code = 1
    try:
        stack.start()
        traffic = Traffic(stack, args.rate, args.chats, args.chat_interval, args.seed)
        log(f"traffic: {args.rate}/s, {args.chats} chats; warm-up {args.warmup:.0f} s")
        traffic.start()
        time.sleep(args.warmup)
        load0 = os.getloadavg()
        first = stack.sample()
        traffic.measuring.set()
        log(f"measuring {args.duration:.0f} s")
        samples = [first]
        started = time.monotonic()
        while time.monotonic() - started < args.duration:
            time.sleep(min(10.0, args.duration - (time.monotonic() - started)))
            samples.append(stack.sample())
        traffic.measuring.clear()
        last = stack.sample()
        traffic.finish()
        print(
            f"\nsoak: {args.duration:.0f} s at {args.rate:.0f}/s target, {args.chats} chats,"
            f" 2 servers behind nginx, load average {load0[0]:.2f} → {os.getloadavg()[0]:.2f}"
        )
        errors, p99 = report(traffic.results, args.duration)
        growth = memory_report(first, last)
        met = errors == 0 and p99 < 500 and growth < 10
        print(
            f"targets: 0 errors ({errors}), p99 < 500 ms ({p99:.0f}), memory growth < 10 %"
            f" ({growth:.1f} %): {'met' if met else 'MISSED'}"
        )
        code = 0 if met else 1
    finally:
        stack.stop()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
