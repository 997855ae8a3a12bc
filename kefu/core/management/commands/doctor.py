from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from kefu.core.doctor import doctor_report, doctor_run


class Command(BaseCommand):
    help = (
        "检查部署 / Check this deployment: one line per problem found, with what to do about "
        "it; exits 1 when something is wrong"
    )
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        healthy, lines = doctor_report(doctor_run())
        for line in lines:
            self.stdout.write(line)
        if not healthy:
            sys.exit(1)
