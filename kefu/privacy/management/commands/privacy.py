from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from kefu.contracts.models import Client
from kefu.privacy import selectors, services
from kefu.tickets.models import Customer


class Command(BaseCommand):
    help = (
        "个人信息保护 / Privacy: kefu privacy retention [--dry-run] [--client CODE]; "
        "kefu privacy export-customer --client CODE --customer ID --out FILE.zip; "
        "kefu privacy anonymise-customer --client CODE --customer ID --reason TEXT"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        retention = sub.add_parser("retention", help="anonymise clients past their retention")
        retention.add_argument("--dry-run", action="store_true", help="show what would go")
        retention.add_argument("--client", default="", help="only this client (code)")
        export = sub.add_parser("export-customer", help="everything about one customer, ZIP")
        anonymise = sub.add_parser("anonymise-customer", help="anonymise one customer")
        for p in (export, anonymise):
            p.add_argument("--client", required=True)
            p.add_argument("--customer", required=True, type=int)
        export.add_argument("--out", required=True)
        anonymise.add_argument("--reason", required=True)

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "retention":
            self._retention(opts["client"], opts["dry_run"])
            return
        customer = self._customer(opts["client"], opts["customer"])
        if action == "export-customer":
            out = Path(opts["out"])
            if not out.parent.is_dir():
                raise CommandError(f"no such directory: {out.parent}")
            out.write_bytes(services.customer_export(actor=None, customer=customer))
            self.stdout.write(f"exported customer {customer.pk} to {out}")
            return
        try:
            counts = services.customer_anonymise(
                actor=None, customer=customer, reason=opts["reason"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"anonymised customer {customer.pk}: {_counts(counts)}")

    def _customer(self, code: str, pk: int) -> Customer:
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise CommandError(f"unknown client {code!r}")
        customer = Customer.objects.filter(client=client, pk=pk).first()
        if customer is None:
            raise CommandError(f"no customer {pk} for client {code}")
        return customer

    def _retention(self, code: str, dry_run: bool) -> None:
        clients = None
        if code:
            clients = Client.objects.filter(code=code)
            if not clients.exists():
                raise CommandError(f"unknown client {code!r}")
        today = timezone.localdate()
        rows = selectors.retention_schedule(clients=clients)
        if not rows:
            self.stdout.write("no client has a contract that ends (auto-renewing ones never do)")
        for row in rows:
            state = (
                "done"
                if row.run and row.run.is_finished
                else "due"
                if row.is_due(today)
                else "kept"
            )
            head = (
                f"{row.client.code}: contract {row.contract.number} ended "
                f"{row.contract.end_date:%Y-%m-%d}, retention {row.contract.retention_days} d, "
                f"due {row.due_date:%Y-%m-%d}: {state}"
            )
            if dry_run:
                if state == "done":
                    self.stdout.write(head)
                    continue
                counts = self._with_bar(row, "预览 / dry run", services.retention_preview)
                self.stdout.write(f"{head}; would anonymise {_counts(counts)}")
                continue
            if state != "due":
                self.stdout.write(head)
                continue
            run = self._with_bar(row, row.client.code, None)
            if run is None:
                self.stdout.write(f"{head}; another process is running it")
            else:
                self.stdout.write(
                    f"{head}; anonymised {_counts(run.counts)}; "
                    f"certificate sha256 {run.certificate_sha256}"
                )

    def _with_bar(self, row: selectors.RetentionDue, desc: str, preview: Any) -> Any:
        total = services.retention_workload(row.client.pk)
        with tqdm(total=total, desc=desc, unit=" rec", disable=None) as bar:
            if preview is not None:
                return preview(client_id=row.client.pk, progress=bar.update)
            return services.retention_run(due=row, progress=bar.update)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing"
