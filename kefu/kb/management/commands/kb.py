"""``kefu kb import|export|search``: the knowledge base from the command line.

``import --client CODE FILE.jsonl`` reads one article a line (kefu.kb.transfer), reports
bad lines by number and keeps the good ones; ``search --client CODE --limit N --format json
"查询"`` prints ``[{"id", "title", "score"}, …]`` best first, ``id`` being the source id;
``export --client CODE [FILE]`` writes the client's articles as JSON Lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kefu.contracts.models import Client
from kefu.kb.selectors import kb_search
from kefu.kb.transfer import kb_export, kb_import


def _client(code: str) -> Client:
    client = Client.objects.filter(code__iexact=code).first()
    if client is None:
        raise CommandError(f"no client with code {code!r} (kefu client list)")
    return client


class Command(BaseCommand):
    help = (
        "知识库 / Knowledge base: kefu kb import --client CODE FILE.jsonl | "
        'search --client CODE [--limit N] [--format json|text] "查询" | '
        "export --client CODE [FILE.jsonl]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        imp = actions.add_parser("import", help="import articles from JSON Lines")
        imp.add_argument("--client", required=True, help="client code")
        imp.add_argument("file")
        search = actions.add_parser("search", help="search a client's published articles")
        search.add_argument("--client", required=True, help="client code")
        search.add_argument("--limit", type=int, default=10)
        search.add_argument("--format", choices=["json", "text"], default="text")
        search.add_argument("--drafts", action="store_true", help="include drafts")
        search.add_argument("query")
        export = actions.add_parser("export", help="write a client's articles as JSON Lines")
        export.add_argument("--client", required=True, help="client code")
        export.add_argument("--shared", action="store_true", help="include shared articles")
        export.add_argument("file", nargs="?", help="default: standard output")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        getattr(self, f"_{action}")(**opts)

    def _import(self, *, client: str, file: str, **_opts: Any) -> None:
        target = _client(client)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        with path.open(encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
        with tqdm(total=len(lines), desc="导入 / importing", unit=" lines", disable=None) as bar:
            done = [0]

            def progress(n: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            report = kb_import(client=target, lines=lines, progress=progress)
        for number, problem in report.errors:
            self.stderr.write(f"{file}:{number}: {problem}")
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, bad lines {len(report.errors)}"
        )
        if report.errors:
            sys.exit(1)

    def _search(
        self, *, client: str, limit: int, format: str, drafts: bool, query: str, **_opts: Any
    ) -> None:
        if limit < 1 or limit > 100:
            raise CommandError("--limit must be between 1 and 100")
        results = kb_search(
            client=_client(client), query=query, limit=limit, published_only=not drafts
        )
        rows = [
            {"id": r.article.public_id, "title": r.article.title, "score": r.score} for r in results
        ]
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for row in rows:
            self.stdout.write(f"{row['score']:>8.3f}  {row['id']}  {row['title']}")

    def _export(self, *, client: str, shared: bool, file: str | None, **_opts: Any) -> None:
        lines = kb_export(client=_client(client), include_shared=shared)
        if file is None:
            for line in lines:
                self.stdout.write(line)
            return
        with Path(file).open("w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line + "\n")
