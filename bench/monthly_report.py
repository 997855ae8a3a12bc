"""The month's KPI JSON on a large synthetic client, against the floor of one bare SQL
aggregate over the same rows; and the history import rate.

    .venv/bin/python bench/monthly_report.py --db sqlite|postgres [--tickets 1000000]

Generates tickets (3 messages each), calls and surveys over three months through kefu's
history importer in chunks (the import rate is records per second), then times
`client_kpis` for the middle month (the JSON the report and dashboard use) and, as the floor,
one plain SQL statement that aggregates the same month's tickets, calls and surveys."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fresh_kefu import fresh_kefu

SH = ZoneInfo("Asia/Shanghai")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))


def records(
    rng: random.Random, n_tickets: int, start: datetime, seconds: int, offset: int = 0
) -> list[dict]:
    """Tickets ``offset``… created at random within ``seconds`` after ``start``."""
    out: list[dict] = []
    channels = ["email", "chat", "phone", "wechat", "portal"]
    kinds = ["inquiry", "request", "fault", "complaint", "suggestion"]
    for i in range(offset, offset + n_tickets):
        created = start + timedelta(seconds=rng.randrange(seconds))
        reply = created + timedelta(minutes=rng.randrange(1, 240))
        msgs = [
            {"at": created, "direction": "in", "author": "customer", "body": "热水器不出热水"},
            {"at": reply, "direction": "out", "author": f"agent:a{i % 40}", "body": "已为您登记"},
            {
                "at": reply + timedelta(hours=1),
                "direction": "in",
                "author": "customer",
                "body": "好的，谢谢",
            },
        ]
        events = []
        if rng.random() < 0.9:
            events.append({"at": reply + timedelta(hours=rng.randrange(1, 48)), "type": "resolved"})
        out.append(
            {
                "type": "ticket",
                "id": f"t{i}",
                "channel": rng.choice(channels),
                "kind": rng.choice(kinds),
                "subject": "热水器故障",
                "created_at": created,
                "customer": {"id": f"c{i % 50000}", "name": "张三"},
                "messages": msgs,
                "events": events,
            }
        )
    return out


def chunk_lines(rng: random.Random, n: int, done: int, total: int, start: datetime) -> list[str]:
    """One chunk of the history as JSON Lines: n tickets, n/2 calls, n/5 surveys. The
    chunks follow each other in time, as a history export and live traffic do: chunk
    ``done``…``done + n`` of ``total`` covers that share of the 92 days."""
    span = 92 * 86400
    start += timedelta(seconds=span * done // total)
    window = max(span * n // total, 1)
    rows = records(rng, n, start, window, offset=done)
    for k in range(n // 2):
        offered = start + timedelta(seconds=rng.randrange(window))
        wait = timedelta(seconds=rng.randrange(3, 60))
        answered = None if rng.random() < 0.05 else offered + wait
        rows.append(
            {
                "type": "call",
                "id": f"c{done}-{k}",
                "offered_at": offered,
                "answered_at": answered,
                "ended_at": (answered or offered) + timedelta(seconds=rng.randrange(5, 600)),
                "hold_s": 0,
                "acw_s": 30,
                "agent": None,
                "ticket": None,
            }
        )
    rows.extend(
        {
            "type": "survey",
            "id": f"s{done}-{k}",
            "ticket": None,
            "sent_at": start + timedelta(seconds=rng.randrange(window)),
            "answered_at": None,
            "score": rng.choice([None, 3, 4, 5, 5]),
        }
        for k in range(n // 5)
    )
    return [json.dumps(r, ensure_ascii=False, default=_iso) for r in rows]


def median_time(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--chunk", type=int, default=20_000, help="tickets per imported file (one transaction each)"
    )
    args = parser.parse_args()
    fresh_kefu(args.db, "kefu_bench_report")

    from django.db import connection

    from kefu.contracts.models import Client
    from kefu.reports.importer import import_history, parse_lines
    from kefu.reports.periods import month
    from kefu.reports.selectors import client_kpis

    client = Client.objects.create(code="BIG", name="基准甲方", ticket_prefix="BG")
    rng = random.Random(1)
    start = datetime(2026, 8, 1, tzinfo=SH)
    n_calls, n_surveys = args.tickets // 2, args.tickets // 5
    total_records = 0
    parse_s = write_s = 0.0
    done = 0
    while done < args.tickets:
        n = min(args.chunk, args.tickets - done)
        lines = chunk_lines(rng, n, done, args.tickets, start)  # the file's text: not timed
        t0 = time.perf_counter()
        parsed = parse_lines(lines)
        t1 = time.perf_counter()
        import_history(client=client, records=parsed)
        t2 = time.perf_counter()
        parse_s += t1 - t0
        write_s += t2 - t1
        done += n
        total_records += n * 4 + n // 2 + n // 5  # ticket + 3 messages, calls, surveys
        rate = total_records / (parse_s + write_s)
        print(
            f"\rimported {done:,}/{args.tickets:,} tickets, {rate:,.0f} records/s",
            end="",
            file=sys.stderr,
        )
    import_s = parse_s + write_s
    print(file=sys.stderr)

    if args.db == "postgres":
        # Autovacuum does this by itself shortly after a bulk load (statistics for the
        # planner, visibility map for index-only scans); done here so that the timings do
        # not depend on whether it has run yet.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    period = month("2026-09", "Asia/Shanghai")
    client_kpis(client, period)  # warm caches
    kpi_s = median_time(lambda: client_kpis(client, period))

    floor_sql = """
        SELECT
          (SELECT COUNT(*) FROM tickets_ticket WHERE client_id = %s
             AND created_at >= %s AND created_at < %s),
          (SELECT COUNT(*) FROM tickets_ticket WHERE client_id = %s
             AND first_resolved_at >= %s AND first_resolved_at < %s),
          (SELECT COUNT(*) FROM tickets_message m JOIN tickets_ticket t ON t.id = m.ticket_id
             WHERE t.client_id = %s AND t.first_resolved_at >= %s
             AND t.first_resolved_at < %s AND m.direction = 'out'),
          (SELECT COUNT(*) FROM phone_call WHERE client_id = %s
             AND offered_at >= %s AND offered_at < %s),
          (SELECT COUNT(score) FROM surveys_survey WHERE client_id = %s
             AND sent_at >= %s AND sent_at < %s)
    """
    span = [client.pk, period.start, period.end]
    with connection.cursor() as cursor:

        def floor() -> None:
            cursor.execute(floor_sql, span * 5)
            cursor.fetchall()

        floor()
        floor_s = median_time(floor)

    print(
        f"database {args.db}; {args.tickets:,} tickets, {args.tickets * 3:,} messages, "
        f"{n_calls:,} calls, {n_surveys:,} surveys over 3 months"
    )
    print(
        f"import:    {total_records:,} records in {import_s:.1f} s = "
        f"{total_records / import_s:,.0f} records/s (validating {parse_s:.1f} s, "
        f"writing {write_s:.1f} s; target ≥ 20,000)"
    )
    print(f"KPI JSON (2026-09):  {kpi_s:.3f} s (median of 5)")
    print(f"floor (one bare SQL aggregate over the same rows): {floor_s:.3f} s")
    print(f"ratio KPI / floor: {kpi_s / floor_s:.1f}× (target ≤ 3×, and KPI < 2 s on PostgreSQL)")


if __name__ == "__main__":
    main()
