from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.contracts.documents import contract_dump, contract_load
from kefu.contracts.models import Contract


class Command(BaseCommand):
    help = "服务合同 / Contracts: kefu contract load FILE.yaml | kefu contract dump CODE"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="create or update a contract from YAML")
        load.add_argument("file")
        dump = sub.add_parser("dump", help="print a client's current contract as YAML")
        dump.add_argument("client")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "load":
            path = Path(opts["file"])
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
            try:
                contract = contract_load(text=path.read_text(encoding="utf-8"))
            except ValidationError as exc:
                raise CommandError(f"{path}: " + "; ".join(exc.messages)) from exc
            self.stdout.write(f"loaded contract {contract.number} for {contract.client.code}")
            return
        current = (
            Contract.objects.filter(client__code=opts["client"]).order_by("-start_date").first()
        )
        if current is None:
            raise CommandError(f"no contract for client {opts['client']!r}")
        self.stdout.write(contract_dump(current))
