from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.tickets.models import Ticket
from kefu.tickets.serialize import ticket_detail_data


class Command(BaseCommand):
    help = "工单 / Tickets: kefu ticket show NUMBER [--client CODE] --format json|text"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="print a ticket with its messages and history")
        show.add_argument("number")
        show.add_argument("--client", default="", help="client code, if numbers repeat")
        show.add_argument("--format", choices=["json", "text"], default="text")

    def handle(
        self, *args: Any, action: str, number: str, client: str, format: str, **opts: Any
    ) -> None:
        qs = Ticket.objects.filter(number=number).select_related(
            "client", "customer", "assignee", "team"
        )
        if client:
            qs = qs.filter(client__code=client)
        found = list(qs[:2])
        if not found:
            raise CommandError(f"no ticket {number}" + (f" for client {client}" if client else ""))
        if len(found) > 1:
            raise CommandError(f"{number} exists for several clients; pass --client CODE")
        # The command line runs as the operator: everything visible, as a provider admin.
        operator = User(role=Role.ADMIN, is_active=True)
        data = ticket_detail_data(user=operator, ticket=found[0])
        if format == "json":
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{data['number']}  {data['subject']}  [{data['status']}]")
        for m in data["messages"]:
            self.stdout.write(
                f"\n-- {m['created_at']:%Y-%m-%d %H:%M} {m['direction']} "
                f"{m['author']}\n{m['body_text']}"
            )
