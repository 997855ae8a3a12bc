from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.core.scheduler import run_forever, tick


class Command(BaseCommand):
    help = (
        "定时任务 / Time-driven work: SLA warnings and breaches, monthly reports on the 1st. "
        "--every N keeps running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0)

    def handle(self, *args: Any, every: float, **opts: Any) -> None:
        if every > 0:
            run_forever(every)
        tick()
