"""``kefu chat widget create|list|revoke``: the chat widgets a client embeds on its website.

``create`` prints the new widget as one JSON object (``{"key": …, …}``), the key being what
the embed line carries; ``list`` prints one JSON line per widget of a client."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.accounts.models import Team
from kefu.chat.models import ChatWidget
from kefu.chat.services import widget_create, widget_revoke
from kefu.contracts.models import Client


def _client(code: str) -> Client:
    client = Client.objects.filter(code__iexact=code).first()
    if client is None:
        raise CommandError(f"no client with code {code!r}")
    return client


def _team(client: Client, name: str | None) -> Team | None:
    if not name:
        return None
    team = Team.objects.filter(client=client, name=name).first()
    if team is None:
        raise CommandError(f"client {client.code} has no team {name!r}")
    return team


def _row(widget: ChatWidget) -> dict[str, Any]:
    return {
        "key": widget.key,
        "client": widget.client.code,
        "name": widget.name,
        "origins": widget.origins,
        "team": widget.team.name if widget.team else None,
        "revoked_at": widget.revoked_at.isoformat() if widget.revoked_at else None,
    }


class Command(BaseCommand):
    help = (
        "在线客服窗口 / Chat widgets: kefu chat widget create --client CODE --origin "
        "https://www.example.com [--origin …] [--name N] [--team T] | list --client CODE | "
        "revoke KEY"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        nouns = parser.add_subparsers(dest="noun", required=True)
        widget = nouns.add_parser("widget", help="the widget a client's website embeds")
        actions = widget.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new widget; prints its key as JSON")
        create.add_argument("--client", required=True, help="client code")
        create.add_argument(
            "--origin",
            action="append",
            required=True,
            help="a website allowed to embed it, scheme://host[:port] (repeat for several)",
        )
        create.add_argument("--name", default="", help="a name for the admin (官网, 小程序 …)")
        create.add_argument("--team", help="only this team of the client answers its chats")
        listing = actions.add_parser("list", help="a client's widgets, one JSON line each")
        listing.add_argument("--client", required=True, help="client code")
        revoke = actions.add_parser("revoke", help="stop a widget (its key is refused)")
        revoke.add_argument("key")

    def handle(self, *args: Any, noun: str, action: str, **opts: Any) -> None:
        getattr(self, f"_{noun}_{action}")(**opts)

    def _out(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))

    def _widget_create(
        self, *, client: str, origin: list[str], name: str, team: str | None, **_opts: Any
    ) -> None:
        found = _client(client)
        try:
            widget = widget_create(client=found, origins=origin, name=name, team=_team(found, team))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self._out(_row(widget))

    def _widget_list(self, *, client: str, **_opts: Any) -> None:
        found = _client(client)
        for widget in ChatWidget.objects.filter(client=found).select_related("client", "team"):
            self._out(_row(widget))

    def _widget_revoke(self, *, key: str, **_opts: Any) -> None:
        widget = ChatWidget.objects.filter(key=key).select_related("client", "team").first()
        if widget is None:
            raise CommandError("no widget with that key")
        self._out(_row(widget_revoke(widget=widget)))
