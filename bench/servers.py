"""Server processes for the benchmarks: started on a free port of 127.0.0.1, waited for until
they accept connections, stopped with their whole process group, and measured from
``/proc`` (resident memory, time on a CPU and waiting for one)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid``, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def sched_seconds(pid: int) -> tuple[float, float]:
    """Seconds the threads of process ``pid`` have run on a CPU, and waited for one while
    runnable (``/proc/<pid>/task/*/schedstat``): on a shared machine the second is the time
    other programs took from it."""
    ran = waited = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            on_cpu, queued, _slices = (task / "schedstat").read_text().split()
            ran, waited = ran + int(on_cpu) / 1e9, waited + int(queued) / 1e9
    return ran, waited


@dataclass
class Server:
    """One server: ``argv`` run in its own process group, its output appended to
    ``log_path``; ready once ``port`` accepts a connection."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not running"
        return self.proc.pid

    def start(self) -> None:
        log(f"starting {self.name} on {HOST}:{self.port}")
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and its workers
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not listen within 90 s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()
