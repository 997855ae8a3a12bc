from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.accounts import services
from kefu.accounts.models import ApiToken, TokenScope, User


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--expires wants a date YYYY-MM-DD, not {text!r}") from exc


class Command(BaseCommand):
    help = (
        "API 令牌 / API tokens: kefu token create --user NAME --name LABEL "
        "[--scope read|write] [--expires YYYY-MM-DD] | revoke PREFIX"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.READ,
            help="read: GET only (default); write: may also create and change",
        )
        create.add_argument("--expires", help="last day the token works (YYYY-MM-DD)")
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
        expires_at = None
        if opts["expires"]:
            expires_at = services.api_token_expiry(_day(opts["expires"]))
        try:
            _token, raw = services.api_token_create(
                user=user, name=opts["name"], scope=opts["scope"], expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(raw)
