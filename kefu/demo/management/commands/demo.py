from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kefu.demo import build


class Command(BaseCommand):
    help = "加载演示数据 / Load the Chinese demo data set (once; --reset rebuilds it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="delete the demo and rebuild")
        parser.add_argument("--tickets", type=int, default=3000, help="how many tickets")

    def handle(self, *args: Any, reset: bool, tickets: int, **opts: Any) -> None:
        if tickets < 10:
            raise CommandError("--tickets must be at least 10")
        if build.exists() and not reset:
            self.stdout.write(
                "演示数据已存在 / demo data already loaded (kefu demo --reset to rebuild)"
            )
        else:
            if reset:
                build.reset()
            started = time.monotonic()
            with tqdm(desc="演示数据 / demo", unit=" rec", disable=None) as bar:
                counts = build.build(tickets=tickets, progress=bar.update)
            took = time.monotonic() - started
            self.stdout.write(f"loaded in {took:.1f} s: {counts}")
        self.stdout.write(f"\n演示账号 / Demo logins (password 密码: {build.PASSWORD})")
        for username, role, sees in build.LOGINS:
            self.stdout.write(f"  {username:<16} {role:<28} {sees}")
        self.stdout.write(f"\n{settings.KEFU_BASE_URL}/login/")
        self.stdout.write(
            f"在线客服试用 / Try the chat widget (as a supervisor): "
            f"{settings.KEFU_BASE_URL}/chat/widgets/"
        )
        self.stdout.write(
            f"客户门户 / Customer portal: {settings.KEFU_BASE_URL}/p/HUAXIN/ "
            f"{settings.KEFU_BASE_URL}/p/MINGDA/ (短信验证码见 / SMS codes in "
            f"{settings.KEFU_SMS_OUTBOX})"
        )
