from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kefu.core.jobs import jobs_registered
from kefu.core.models import JobRun
from kefu.core.scheduler import run_forever, tick


class Command(BaseCommand):
    help = (
        "定时任务 / Time-driven work: enqueue every periodic job that is due (SLA sweeps, "
        "mail, monthly reports, retention …) for `kefu worker`. --every N keeps running; "
        "--list shows each job's last run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0)
        parser.add_argument("--list", action="store_true", help="list the jobs and their runs")

    def handle(self, *args: Any, every: float, list: bool, **opts: Any) -> None:
        if list:
            self._list()
            return
        if every > 0:
            run_forever(every)
        for name in tick():
            self.stdout.write(f"enqueued {name}")

    def _list(self) -> None:
        runs = {r.name: r for r in JobRun.objects.all()}
        for job in jobs_registered():
            run = runs.get(job.name)
            last = "—"
            if run is not None and run.finished_at is not None:
                at = timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S")
                last = f"{at} {run.outcome} ({run.runs} runs, {run.failures} failed)"
            self.stdout.write(f"{job.name:32} every {job.every.total_seconds():>6.0f} s  {last}")
