from __future__ import annotations

import threading
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks.utils import get_random_id
from django_tasks_db.management.commands.db_worker import Worker

from kefu.core.log import uvicorn_log_options
from kefu.core.scheduler import run_forever

WS_MAX_SIZE = 20 * 1024  # bytes of one WebSocket message uvicorn reads


class Command(BaseCommand):
    help = (
        "启动 kefu 服务 / Serve web pages, API and (on the embedded database) one in-process "
        "task worker and the scheduler (SLA sweeps, monthly reports)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="server processes answering requests (e.g. one per CPU core); the task "
            "worker and scheduler still run once",
        )
        parser.add_argument(
            "--worker",
            choices=["auto", "yes", "no"],
            default="auto",
            help="run a task worker in this process (auto: only on the embedded database)",
        )

    def handle(
        self, *args: Any, host: str, port: int, worker: str, workers: int, **options: Any
    ) -> None:
        if workers < 1:
            raise CommandError("--workers must be 1 or more")
        run_worker = worker == "yes" or (worker == "auto" and settings.EMBEDDED_DATABASE)
        task_worker: Worker | None = None
        if run_worker:
            task_worker = Worker(
                queue_names=["*"],
                interval=1,
                batch=False,
                backend_name=DEFAULT_TASK_BACKEND_ALIAS,
                startup_delay=False,
                max_tasks=None,
                worker_id=get_random_id(),
            )
            threading.Thread(target=task_worker.run, name="kefu-worker", daemon=True).start()
            threading.Thread(target=run_forever, name="kefu-scheduler", daemon=True).start()
        self.stdout.write(
            f"kefu 客服 serving on http://{host}:{port}/"
            + (f" ({workers} server processes)" if workers > 1 else "")
            + (" (with an in-process task worker)" if run_worker else "")
        )
        if workers > 1 and not settings.REDIS_URL:
            self.stderr.write(
                "注意 / note: without REDIS_URL each server process keeps its live events to "
                "itself: a page hears only of changes made through its own process."
            )
        try:
            # Several workers: uvicorn's supervisor in this process (which keeps the task
            # worker and the scheduler, so they run once). uvloop, which kefu pins, sets
            # TCP_NODELAY on every connection (bench/README.md on the delayed-ACK stall).
            # X-Forwarded-For (the client's address) and X-Forwarded-Proto are read only on
            # connections from KEFU_TRUSTED_PROXIES; with none, never (kefu/core/net.py).
            trusted = settings.KEFU_TRUSTED_PROXIES
            uvicorn.run(
                "kefu.asgi:application",
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                **uvicorn_log_options(),
                proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted,
                # Live events are a few dozen bytes of JSON: compressing each frame costs
                # CPU per page and saves nothing (bench/realtime.py).
                ws_per_message_deflate=False,
                # Pages send "typing" and "present"; the chat's frames go up to 16 KiB
                # (kefu/chat/consumers.py MAX_FRAME, which answers a larger one with an
                # error frame): a little above that is read, nothing larger.
                ws_max_size=WS_MAX_SIZE,
            )
        finally:
            if task_worker is not None:
                task_worker.running = False
