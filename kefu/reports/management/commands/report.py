from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.contracts.models import Client
from kefu.reports import services
from kefu.reports.periods import month


class Command(BaseCommand):
    help = (
        "服务报告 / Service reports: kefu report monthly --client CODE --month YYYY-MM "
        "--format json|html|pdf|xlsx [--out PATH]; kefu report issue --client CODE --month "
        "YYYY-MM [--plan TEXT]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        monthly = sub.add_parser("monthly", help="one client's month, live")
        monthly.add_argument("--client", required=True)
        monthly.add_argument("--month", required=True, help="YYYY-MM, in the client's zone")
        monthly.add_argument("--format", choices=["json", "html", "pdf", "xlsx"], default="json")
        monthly.add_argument("--out", help="file to write (required for pdf and xlsx)")
        monthly.add_argument("--plan", default="", help="plan for next month (html, pdf)")
        quarterly = sub.add_parser("quarterly", help="季度服务质量回顾 from the three months")
        quarterly.add_argument("--client", required=True)
        quarterly.add_argument("--quarter", required=True, help="YYYY-Qn, e.g. 2026-Q3")
        quarterly.add_argument("--format", choices=["json", "html", "pdf"], default="json")
        quarterly.add_argument("--out")
        issue = sub.add_parser("issue", help="freeze the month as a new report version")
        issue.add_argument("--client", required=True)
        issue.add_argument("--month", required=True)
        issue.add_argument("--plan", default="")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        client = Client.objects.filter(code=opts["client"]).first()
        if client is None:
            raise CommandError(f"unknown client {opts['client']!r}")
        if action == "quarterly":
            self._quarterly(client, opts)
            return
        try:
            label = month(opts["month"], client.time_zone).label
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if action == "issue":
            report = services.report_issue(
                client=client, month_label=label, actor=None, plan=opts["plan"]
            )
            self.stdout.write(f"issued {client.code} {report.period} v{report.version}")
            return
        fmt, out = opts["format"], opts["out"]
        if fmt in ("pdf", "xlsx") and not out:
            raise CommandError(f"--format {fmt} needs --out PATH")
        data = services.report_build(client, label)
        body: str | bytes
        if fmt == "json":
            body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        elif fmt == "html":
            body = services.render_html(data, plan=opts["plan"])
        elif fmt == "pdf":
            body = services.render_pdf(data, plan=opts["plan"])
        else:
            body = services.render_xlsx(data)
        self._write(body, out)

    def _quarterly(self, client: Client, opts: dict[str, Any]) -> None:
        if opts["format"] == "pdf" and not opts["out"]:
            raise CommandError("--format pdf needs --out PATH")
        try:
            data = services.quarter_build(client, opts["quarter"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        body: str | bytes
        if opts["format"] == "json":
            body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        elif opts["format"] == "html":
            body = services.render_quarter_html(data)
        else:
            body = services.render_quarter_pdf(data)
        self._write(body, opts["out"])

    def _write(self, body: str | bytes, out: str | None) -> None:
        if out:
            path = Path(out)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
            self.stderr.write(f"wrote {path}")
        else:
            assert isinstance(body, str)
            sys.stdout.flush()
            self.stdout.write(body, ending="")
