from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.contracts.models import Client
from kefu.reports.evaluation import evaluate
from kefu.reports.periods import month
from kefu.reports.selectors import client_kpis, contract_for


class Command(BaseCommand):
    help = (
        "服务报告 / Service reports: kefu report monthly --client CODE --month YYYY-MM "
        "--format json [--out PATH]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        monthly = sub.add_parser("monthly", help="the KPIs of one client and month")
        monthly.add_argument("--client", required=True)
        monthly.add_argument("--month", required=True, help="YYYY-MM, in the client's zone")
        monthly.add_argument(
            "--format",
            choices=["json"],
            default="json",
            help="json (HTML, PDF and XLSX are not built yet)",
        )
        monthly.add_argument(
            "--service-level-seconds",
            type=int,
            default=0,
            help="override the contract's service-level threshold",
        )
        monthly.add_argument("--out", help="write to this file instead of stdout")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        client = Client.objects.filter(code=opts["client"]).first()
        if client is None:
            raise CommandError(f"unknown client {opts['client']!r}")
        try:
            period = month(opts["month"], client.time_zone)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        contract = contract_for(client, period)
        threshold = opts["service_level_seconds"] or (
            contract.service_level_seconds if contract else 20
        )
        data = client_kpis(client, period, service_level_s=threshold)
        data["contract"] = evaluate(contract, data["kpis"]) if contract else None
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if opts["out"]:
            Path(opts["out"]).write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
