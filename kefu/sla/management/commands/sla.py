from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.sla.policies import sla_policy_load
from kefu.sla.services import sla_sweep


class Command(BaseCommand):
    help = "时效 / SLA: kefu sla load FILE.yaml | kefu sla sweep [--every SECONDS]"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load a client's SLA policy from YAML")
        load.add_argument("file")
        sweep = sub.add_parser("sweep", help="record due warnings and breaches")
        sweep.add_argument(
            "--every", type=float, default=0, help="keep sweeping every N seconds (0: once)"
        )

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "load":
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
            try:
                policy = sla_policy_load(text=path.read_text(encoding="utf-8"))
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(f"loaded SLA policy {policy.name} ({policy.targets.count()} targets)")
            return
        every = opts["every"]
        while True:
            result = sla_sweep()
            if result.warned or result.breached or not every:
                self.stdout.write(f"warned {result.warned}, breached {result.breached}")
            if not every:
                return
            time.sleep(every)
