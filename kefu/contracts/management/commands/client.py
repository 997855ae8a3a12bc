from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.contracts import services


class Command(BaseCommand):
    help = "管理甲方 / Manage clients: kefu client create --code CODE --name NAME"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a client")
        create.add_argument("--code", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--prefix", default="KF", help="ticket number prefix (default KF)")
        sub.add_parser("list", help="list clients")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "list":
            from kefu.contracts.models import Client

            for c in Client.objects.order_by("code"):
                self.stdout.write(f"{c.code}\t{c.name}\t{c.ticket_prefix}")
            return
        try:
            client = services.client_create(
                code=opts["code"], name=opts["name"], ticket_prefix=opts["prefix"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"created client {client.code} ({client.name})")
