from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.accounts import services
from kefu.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "API 令牌 / API tokens: kefu token create --user NAME --name LABEL | revoke PREFIX"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument("--name", required=True)
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "revoke":
            tokens = list(ApiToken.objects.filter(prefix=opts["prefix"]))
            if len(tokens) != 1:
                raise CommandError(f"no single token with prefix {opts['prefix']}")
            services.api_token_revoke(token=tokens[0])
            self.stdout.write("revoked")
            return
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"no user {opts['user']}")
        try:
            _token, raw = services.api_token_create(user=user, name=opts["name"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(raw)
