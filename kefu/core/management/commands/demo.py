"""``kefu demo``: load the Chinese demo data set once (``--reset`` rebuilds it) and print
the demo logins."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kefu.core.demo import data
from kefu.core.demo.build import LOGINS, PASSWORD, SEED, DemoError, demo_load

MAX_TICKETS = 200_000
PHASES = {"write": "写入工单 / writing tickets", "sla": "重放时效 / replaying SLA"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def logins_table() -> list[str]:
    """The demo logins, one line each, columns aligned for CJK terminals."""
    header = ("账号 Username", "角色 Role", "密码 Password", "可见范围 What they see")
    rows = [header] + [(x.username, x.role, PASSWORD, x.sees) for x in LOGINS]
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        cells = [_pad(cell, w) for cell, w in zip(row, widths, strict=False)] + [row[3]]
        lines.append("  " + "  ".join(cells).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in [*widths, _width(row[3])]))
    return lines


class Command(BaseCommand):
    help = "加载中文演示数据 / Load the Chinese demo data set (once; --reset rebuilds it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tickets", type=int, default=3000, help="how many tickets (default 3000)"
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete the demo clients and users, rebuild"
        )
        parser.add_argument(
            "--seed", type=int, default=SEED, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--sla-history",
            action="store_true",
            help="replay the SLA clocks of every ticket, not only the open ones "
            "(compliance figures for past months; ~20 ms a ticket on SQLite)",
        )

    def handle(
        self, *args: Any, tickets: int, reset: bool, seed: int, sla_history: bool, **options: Any
    ) -> None:
        if not 10 <= tickets <= MAX_TICKETS:
            raise CommandError(f"--tickets must be between 10 and {MAX_TICKETS}, not {tickets}")
        names = "、".join(f"{c.name} {c.code}" for c in data.CLIENTS)
        started = time.monotonic()
        with tqdm(total=2 * tickets, unit=" 工单", desc=PHASES["write"], disable=None) as bar:

            def progress(phase: str, n: int) -> None:
                bar.set_description(PHASES.get(phase, phase), refresh=False)
                bar.update(n)

            try:
                counts = demo_load(
                    tickets=tickets,
                    seed=seed,
                    reset=reset,
                    sla_history=sla_history,
                    progress=progress,
                )
            except DemoError as exc:
                raise CommandError(str(exc)) from exc
        if counts is None:
            self.stdout.write(
                f"演示数据已存在（{names}），未做任何改动；kefu demo --reset 可重建。\n"
                "Demo data already loaded; nothing changed (kefu demo --reset rebuilds it)."
            )
        else:
            took = time.monotonic() - started
            summary = " · ".join(f"{key} {value}" for key, value in counts.items())
            self.stdout.write(
                self.style.SUCCESS(f"演示数据已生成 / Demo data built in {took:.1f} s: {names}")
            )
            self.stdout.write(f"  {summary}")
        self.stdout.write("\n演示账号 / Demo logins (演示专用密码 / demo-only password)")
        for line in logins_table():
            self.stdout.write(line)
