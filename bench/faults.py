"""Faults: the soak's stack and traffic (bench/soak.py) while parts of it fail, then a count of
what kefu acknowledged against what it stored.

    .venv/bin/python bench/faults.py [--duration 240] [--rate 100] [--chats 100]

Loopback only, bounded in time. During the traffic, in turn (times are shares of
``--duration``):

- 15 %: ``kill -9`` one of the two servers behind nginx; started again 5 s later;
- 30 %: ``kill -9`` the task worker while replies are being sent; started again 3 s later;
- 45 %: PostgreSQL restarted (``pg_ctl stop -m fast``, then start);
- 60 %: Redis stopped for ``--redis-outage`` seconds (30), then started.

Afterwards (the traffic stopped, the worker and scheduler given up to ``--settle`` seconds,
720, to send what is queued: a reply the killed worker had claimed is taken again after ten
minutes), in the database: every ticket the API answered 201 for, every reply it answered
201 for, every e-mail the listener accepted (250) and every chat message kefu acknowledged
is stored exactly once; every reply's mail reached the SMTP sink under exactly one Message-
ID (at least once: a mail the killed worker had handed over but not marked is sent again,
and counted); every chat that lost its socket reconnected and resumed. What happened is
printed as it happens, then the counts; the exit status is 1 when anything acknowledged is
missing or doubled. Requests refused while a part was down are counted by kind (a client
would retry them): they were never acknowledged, so they are not looked for."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from servers import log  # noqa: E402
from soak import CLIENT, Stack, Traffic, _wait_http, report  # noqa: E402

TASKS = "django_tasks_database_dbtaskresult"  # django-tasks-db's table
COUNT = """
import json, re
from collections import Counter
from kefu.tickets.models import Delivery, Message, Ticket
marker = re.compile(r"(SOAK[TRE]-[0-9]+-[0-9]+|s[0-9]+[.][0-9]+)")
subjects, bodies = Counter(), Counter()
for subject in Ticket.objects.filter(client__code={client!r}).values_list("subject", flat=True):
    found = marker.match(subject or "")
    if found:
        subjects[found.group(1)] += 1
messages = Message.objects.filter(ticket__client__code={client!r})
for body in messages.values_list("body_text", flat=True):
    found = marker.search(body or "")
    if found and not found.group(1).startswith("SOAKE"):
        bodies[found.group(1)] += 1
states = Counter(Delivery.objects.filter(ticket__client__code={client!r}, channel="email")
                 .values_list("status", flat=True))
print("COUNTS", json.dumps({{"subjects": subjects, "bodies": bodies, "deliveries": states}}))
"""


def counts(stack: Stack) -> dict[str, Counter[str]]:
    out = stack.kefu("shell", "-c", COUNT.format(client=CLIENT))
    line = next(x for x in out.splitlines() if x.startswith("COUNTS "))
    return {k: Counter(v) for k, v in json.loads(line[7:]).items()}


def faults(stack: Stack, traffic: Traffic, duration: float, redis_outage: float) -> None:
    """Break the parts in turn while the traffic runs; say what happened when."""
    t0 = time.monotonic()

    def at(share: float) -> None:
        delay = t0 + duration * share - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def say(what: str) -> None:
        log(f"t+{time.monotonic() - t0:5.1f} s  {what}")

    at(0.15)
    server = stack.procs["server1"]
    server.kill9()
    say(f"kill -9 server1 (pid {server.pid}); nginx has server2")
    time.sleep(5)
    server.start()
    _wait_http(stack.ports[0])
    say(f"server1 started again (pid {server.pid})")

    at(0.30)
    worker = stack.procs["worker"]
    waiting = stack.psql(f"select count(*) from {TASKS} where status in ('READY', 'RUNNING')")
    worker.kill9()
    say(f"kill -9 worker (pid {worker.pid}); tasks waiting or running: {waiting or '?'}")
    time.sleep(3)
    worker.start()
    say(f"worker started again (pid {worker.pid})")

    at(0.45)
    stack.pg.stop("fast")
    say("PostgreSQL stopped (fast: clients disconnected)")
    stack.pg.start()
    say("PostgreSQL started again")

    at(0.60)
    stack.redis.stop()
    say(f"Redis stopped for {redis_outage:.0f} s")
    time.sleep(redis_outage)
    stack.redis.start()
    say("Redis started again")


def check(name: str, acknowledged: list[str], stored: Counter[str]) -> bool:
    missing = [m for m in acknowledged if stored.get(m, 0) == 0]
    doubled = [m for m in acknowledged if stored.get(m, 0) > 1]
    once = len(acknowledged) - len(missing) - len(doubled)
    ok = not missing and not doubled
    print(
        f"{name:34} acknowledged {len(acknowledged):6d}  stored once {once:6d}"
        f"  missing {len(missing):4d}  doubled {len(doubled):4d}  {'ok' if ok else 'FAILED'}"
    )
    for m in (missing + doubled)[:5]:
        print(f"    e.g. {m}: stored {stored.get(m, 0)} times")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=240)
    ap.add_argument("--warmup", type=float, default=15)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--chats", type=int, default=100)
    ap.add_argument("--chat-interval", type=float, default=10)
    ap.add_argument("--redis-outage", type=float, default=30)
    # A delivery left "sending" by the killed worker is taken again after STALE_SENDING
    # (10 minutes, kefu/tickets/delivery.py) by the scheduler's retry job.
    ap.add_argument("--settle", type=float, default=720)
    args = ap.parse_args()
    work = ROOT / "var" / "bench" / f"faults-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    stack = Stack(work)
    code = 1
    try:
        stack.start()
        traffic = Traffic(stack, args.rate, args.chats, args.chat_interval, seed=2)
        traffic.start()
        log(f"traffic: {args.rate}/s, {args.chats} chats; warm-up {args.warmup:.0f} s")
        time.sleep(args.warmup)
        traffic.measuring.set()
        load0 = os.getloadavg()
        started = time.monotonic()
        breaker = threading.Thread(
            target=faults, args=(stack, traffic, args.duration, args.redis_outage)
        )
        breaker.start()
        breaker.join()
        time.sleep(max(0.0, args.duration - (time.monotonic() - started)))
        traffic.measuring.clear()
        ready_chats = traffic.chat_ready_count
        traffic.finish()
        results = traffic.results
        print(
            f"\nfaults: {args.duration:.0f} s at {args.rate:.0f}/s target, {args.chats} chats,"
            f" load average {load0[0]:.2f} → {os.getloadavg()[0]:.2f}"
        )
        print("requests while parts failed (refused ones were not acknowledged):")
        report(results, args.duration)

        log(f"letting the worker send what is queued (at most {args.settle:.0f} s)")
        deadline = time.monotonic() + args.settle
        while True:
            found = counts(stack)
            pending = sum(n for s, n in found["deliveries"].items() if s in ("queued", "sending"))
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(5)
        print(f"\nreply deliveries by state: {dict(found['deliveries'])}")
        oks = [
            check("API tickets (201)", results.tickets, found["subjects"]),
            check("API replies (201)", results.replies, found["bodies"]),
            check("e-mails taken by the listener (250)", results.emails, found["subjects"]),
            check("chat messages acknowledged", list(results.chat_acks), found["bodies"]),
            check(
                "reply mails at the SMTP sink (by Message-ID)",
                results.replies,
                Counter({k: len(v) for k, v in stack.sink.message_ids.items()}),
            ),
        ]
        resent = sum(1 for m in results.replies if stack.sink.received.get(m, 0) > 1)
        print(
            f"reply mails handed to the SMTP server more than once: {resent} (same Message-ID:"
            " a worker killed between the server's acceptance and its mark sends again,"
            " kefu/tickets/delivery.py; the receiving side drops the copy)"
        )
        print(
            f"chats: {ready_chats} of {args.chats} started; sockets lost and resumed"
            f" {results.reconnects} times"
        )
        code = 0 if all(oks) and ready_chats == args.chats else 1
        print("nothing lost or doubled" if code == 0 else "SOMETHING WAS LOST OR DOUBLED")
    finally:
        stack.stop()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
