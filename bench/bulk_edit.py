"""Bulk edit of 1,000 tickets in one request, against the floor of one plain UPDATE.

    .venv/bin/python bench/bulk_edit.py --db postgres|sqlite [--tickets 1000] [--rounds 3]

Creates the tickets (with an SLA policy, so each carries running clocks), then times
``tickets_bulk_update`` — what the queue's bulk form calls: a transaction per ticket through
the single-edit services, with events, SLA clock updates and live events — assigning all of
them to an agent, setting them pending and raising the priority. The floor is the same
change as one ``QuerySet.update()`` over the same rows (no events, no clocks, no checks),
run in the same process on the same database. Prints seconds, tickets per second, SQL
statements per ticket, and the ratio to the floor."""

from __future__ import annotations

import argparse
import os
import statistics
import time

from fresh_kefu import fresh_kefu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fresh_kefu(args.db, "kefu_bench_bulk")

    from django.db import connection

    from kefu.accounts.models import User
    from kefu.calendars.services import calendar_load
    from kefu.contracts.services import client_create
    from kefu.sla.policies import sla_policy_load
    from kefu.tickets import services
    from kefu.tickets.bulk import BulkChange, tickets_bulk_update
    from kefu.tickets.models import Ticket

    client = client_create(code="BULK", name="批量", ticket_prefix="BK")

    days = ", ".join(
        f"{d}: ['00:00-24:00']" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    calendar_load(text=f"name: 7x24\nweekly: {{{days}}}\nholidays: none\n")
    sla_policy_load(
        text="client: BULK\ntargets:\n"
        "  - {metric: first_response, minutes: 240, calendar: 7x24}\n"
        "  - {metric: resolution, minutes: 2880, calendar: 7x24}\n"
    )
    supervisor = User.objects.create(username="sup", role="supervisor")
    supervisor.clients.add(client)
    agents = []
    for i in range(args.rounds * 2):
        agent = User.objects.create(username=f"agent{i}", role="agent")
        agent.clients.add(client)
        agents.append(agent)

    ids = [
        services.ticket_create(
            client=client, subject=f"批量工单{i}", body="热水器不出热水", channel="email"
        ).pk
        for i in range(args.tickets)
    ]

    def run(label: str, changes: list[BulkChange], floor: list[dict[str, object]]) -> None:
        kefu_s, floor_s, sql = [], [], []
        for change, plain in zip(changes, floor, strict=True):
            statements = [0]

            def count(execute, sql_text, params, many, context, seen=statements):  # type: ignore[no-untyped-def]
                seen[0] += 1
                return execute(sql_text, params, many, context)

            with connection.execute_wrapper(count):
                start = time.perf_counter()
                result = tickets_bulk_update(actor=supervisor, ticket_ids=ids, change=change)
                kefu_s.append(time.perf_counter() - start)
            assert len(result.changed) == len(ids) and not result.refused, result.refused[:3]
            sql.append(statements[0] / len(ids))
            start = time.perf_counter()
            Ticket.objects.filter(pk__in=ids).update(**plain)
            floor_s.append(time.perf_counter() - start)
        k, f = statistics.median(kefu_s), statistics.median(floor_s)
        print(
            f"  {label}: kefu {k:.2f} s ({len(ids) / k:.0f} tickets/s, "
            f"{statistics.median(sql):.1f} SQL statements a ticket); floor one UPDATE "
            f"{f:.3f} s; kefu / floor = {k / f:.0f}x"
        )
        print(
            f"    rounds (s): kefu {', '.join(f'{x:.2f}' for x in kefu_s)}; "
            f"floor {', '.join(f'{x:.3f}' for x in floor_s)}"
        )

    load = os.getloadavg()[0]
    print(
        f"bulk edit of {len(ids)} tickets on {args.db} (median of {args.rounds}, load {load:.1f})"
    )
    rounds = range(args.rounds)
    run(
        "assign",
        [BulkChange(assignee=agents[2 * r]) for r in rounds],
        [{"assignee": agents[2 * r + 1]} for r in rounds],
    )
    run(
        "assign + status + priority",
        [
            BulkChange(
                assignee=agents[2 * r],
                status="pending" if r % 2 == 0 else "open",
                priority="high" if r % 2 == 0 else "normal",
            )
            for r in rounds
        ],
        [
            {
                "assignee": agents[2 * r + 1],
                "status": "open" if r % 2 == 0 else "pending",
                "priority": "normal" if r % 2 == 0 else "high",
            }
            for r in rounds
        ],
    )


if __name__ == "__main__":
    main()
