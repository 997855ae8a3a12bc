from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kefu.contracts.models import Client
from kefu.reports.importer import ImportFileError, import_history, parse_lines


class Command(BaseCommand):
    help = (
        "导入历史数据 / Import history from JSON Lines (tickets, calls, surveys): "
        "kefu import --client CODE FILE.jsonl"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True)
        parser.add_argument("file")

    def handle(self, *args: Any, client: str, file: str, **opts: Any) -> None:
        target = Client.objects.filter(code=client).first()
        if target is None:
            raise CommandError(f"unknown client {client!r} (kefu client list)")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        with path.open(encoding="utf-8") as fh:
            lines = list(tqdm(fh, desc="读取 / reading", unit=" lines", disable=None))
        try:
            records = parse_lines(lines)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}; nothing was imported") from exc
        with tqdm(total=len(records), desc="导入 / importing", unit=" rec", disable=None) as bar:
            result = import_history(client=target, records=records, progress=bar.update)
        for kind in ("ticket", "call", "survey"):
            self.stdout.write(
                f"{kind}: {result.created.get(kind, 0)} created, "
                f"{result.skipped.get(kind, 0)} already imported"
            )
        if result.agents_created:
            self.stdout.write("inactive agents created: " + ", ".join(result.agents_created))
