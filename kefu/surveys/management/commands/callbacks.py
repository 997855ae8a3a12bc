from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kefu.contracts.models import Client
from kefu.surveys.models import SurveyRule
from kefu.surveys.selectors import rule_for
from kefu.surveys.services import callback_sample_plan, callback_sample_week, week_of


class Command(BaseCommand):
    help = (
        "电话回访抽样 / The weekly phone callback sample: kefu callbacks sample --client CODE "
        "--week YYYY-MM-DD [--write]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sample = sub.add_parser("sample", help="show (or --write) the week's sample as JSON")
        sample.add_argument("--client", required=True)
        sample.add_argument("--week", required=True, help="any day of the week, YYYY-MM-DD")
        sample.add_argument("--write", action="store_true", help="create the callback tasks")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            week = week_of(date.fromisoformat(opts["week"]))
        except ValueError as exc:
            raise CommandError(f"--week: expected YYYY-MM-DD, got {opts['week']!r}") from exc
        rule = rule_for_code(opts["client"])
        plan = callback_sample_plan(rule=rule, week=week)
        created = len(callback_sample_week(rule=rule, week=week)) if opts["write"] else 0
        self.stdout.write(
            json.dumps(
                {
                    "client": opts["client"],
                    "week": week.isoformat(),
                    "channels": [
                        {
                            "channel": s.channel,
                            "resolved": s.resolved,
                            "eligible": s.eligible,
                            "size": s.size,
                            "tickets": s.picked,
                        }
                        for s in plan
                    ],
                    "created": created,
                },
                ensure_ascii=False,
            )
        )


def rule_for_code(code: str) -> SurveyRule:
    client = Client.objects.filter(code=code).first()
    if client is None:
        raise CommandError(f"no such client: {code!r}")
    rule = rule_for(client.pk, timezone.now())
    if rule is None:
        raise CommandError(f"client {code} has no active survey rule (contract survey:)")
    return rule
