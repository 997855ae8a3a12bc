"""Run a server module under a wall-clock stack sampler: where each of its threads spends
its time, for a window the benchmark chooses (py-spy's idea, in-process, standard library
only).

    python bench/profile_server.py DIR -m kefu serve --port 8000

runs ``python -m kefu serve --port 8000`` in this process. A thread samples every other
thread's Python stack (``sys._current_frames``) every ``KEFU_PROFILE_INTERVAL`` seconds
(0.005) while ``DIR/start`` exists and ``DIR/stop`` does not; once ``DIR/stop`` appears it
writes ``DIR/report.txt`` (per thread: samples, the functions most often on the stack and
most often at its top) and ``DIR/stacks.folded`` (one line per distinct stack with its
count, the input of flame-graph tools), then stops sampling.

A sample is one thread's stack at one instant, whether the thread runs or waits (a thread
blocked in C shows the Python frame that called it): the report marks samples whose top
frame is a known wait (a worker thread's idle queue, the event loop's poll) as idle and
leaves them out of the percentages. Sampling needs the GIL, so a thread holding it for
long stretches is seen at the points where it lets go; the overhead is a few percent of a
core at the default interval. Beside the samples, the report gives each thread's time on a
CPU and its time runnable but waiting for one (``/proc/<pid>/task/<tid>/schedstat``): on a
shared machine, the second says how much of a slow window was other programs' doing.

``KEFU_SWITCH_INTERVAL`` (seconds) sets the interpreter's GIL switch interval for an
experiment (``sys.setswitchinterval``; Python's default 0.005).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

# (file name, function) of a thread's top frame while it waits for work.
IDLE = {
    ("thread.py", "_worker"),  # concurrent.futures worker waiting on its queue
    ("threading.py", "wait"),
    ("queue.py", "get"),
    ("selectors.py", "select"),
    ("runners.py", "run"),  # the main thread inside uvloop's run loop, polling
    ("base_events.py", "run_forever"),
    ("base_events.py", "_run_once"),
    ("scheduler.py", "run_forever"),  # kefu's in-process scheduler between ticks
    ("db_worker.py", "run"),  # the in-process task worker between polls
}


def thread_times() -> dict[int, tuple[float, float]]:
    """Seconds each thread of this process has run on a CPU, and waited for one while
    runnable (``/proc/.../schedstat``), by native thread id."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            ran, waited, _slices = (task / "schedstat").read_text().split()
            out[int(task.name)] = (int(ran) / 1e9, int(waited) / 1e9)
    return out


_PREFIXES = (
    os.getcwd() + "/",
    "site-packages/",
    f"/lib/python{sys.version_info[0]}.{sys.version_info[1]}/",
)


def _label(frame: FrameType) -> str:
    """``path:function``, the path relative to the project, site-packages or the standard
    library."""
    code = frame.f_code
    path = code.co_filename
    for prefix in _PREFIXES:
        if prefix in path:
            path = path[path.index(prefix) + len(prefix) :]
            break
    return f"{path}:{code.co_name}"


class Sampler:
    def __init__(self, out: Path, interval: float) -> None:
        self.out = out
        self.interval = interval
        self.stacks: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self.idle: Counter[str] = Counter()
        # thread name: (share of the window on a CPU, share runnable but waiting for a CPU)
        self.cpu: dict[str, tuple[float, float]] = {}

    def run(self) -> None:
        start, stop = self.out / "start", self.out / "stop"
        while not start.exists():
            time.sleep(0.05)
        me = threading.get_ident()
        before, started = thread_times(), time.perf_counter()
        next_at = time.perf_counter()
        while not stop.exists():
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                name = names.get(ident, str(ident))
                top = frame.f_code
                if (os.path.basename(top.co_filename), top.co_name) in IDLE:
                    self.idle[name] += 1
                    continue
                stack: list[str] = []
                walk: FrameType | None = frame
                while walk is not None:
                    stack.append(_label(walk))
                    walk = walk.f_back
                self.stacks[(name, tuple(reversed(stack)))] += 1
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        after, wall = thread_times(), time.perf_counter() - started
        native = {t.native_id: t.name for t in threading.enumerate()}
        for tid, (ran, waited) in after.items():
            ran0, waited0 = before.get(tid, (0.0, 0.0))
            self.cpu[native.get(tid, str(tid))] = ((ran - ran0) / wall, (waited - waited0) / wall)
        self.write()

    def write(self) -> None:
        with (self.out / "stacks.folded").open("w") as folded:
            for (name, stack), count in self.stacks.most_common():
                folded.write(f"{name};{';'.join(stack)} {count}\n")
        busy: Counter[str] = Counter()
        for (name, _stack), count in self.stacks.items():
            busy[name] += count
        lines = [
            "per thread over the window: on a CPU / runnable but waiting for a CPU (shares of "
            "the window's wall time, from /proc schedstat)\n"
        ]
        lines += [
            f"  {ran:6.1%} / {waited:6.1%}  {name}\n"
            for name, (ran, waited) in sorted(self.cpu.items(), key=lambda item: -item[1][0])
            if ran + waited >= 0.001
        ]
        lines.append(f"\nwall-clock samples every {self.interval * 1000:.1f} ms, per thread\n")
        for name, total in busy.most_common():
            inclusive: Counter[str] = Counter()
            own: Counter[str] = Counter()
            for (thread, stack), count in self.stacks.items():
                if thread != name:
                    continue
                for label in set(stack):
                    inclusive[label] += count
                own[stack[-1]] += count
            lines.append(
                f"\n== {name}: {total} busy samples, {self.idle[name]} idle "
                f"({total * self.interval:.1f} s busy)\n  on the stack (inclusive):\n"
            )
            lines += [f"    {c / total:6.1%}  {label}\n" for label, c in inclusive.most_common(45)]
            lines.append("  at the top (self):\n")
            lines += [f"    {c / total:6.1%}  {label}\n" for label, c in own.most_common(25)]
        (self.out / "report.txt").write_text("".join(lines))


def main() -> None:
    out = Path(sys.argv[1])
    if sys.argv[2] != "-m":
        raise SystemExit("usage: profile_server.py DIR -m MODULE [ARGS...]")
    module, args = sys.argv[3], sys.argv[4:]
    out.mkdir(parents=True, exist_ok=True)
    sampler = Sampler(out, float(os.environ.get("KEFU_PROFILE_INTERVAL", "0.005")))
    if "KEFU_SWITCH_INTERVAL" in os.environ:  # an experiment: the GIL's switch interval
        sys.setswitchinterval(float(os.environ["KEFU_SWITCH_INTERVAL"]))
    threading.Thread(target=sampler.run, name="profiler", daemon=True).start()
    sys.argv = [module, *args]
    sys.path.insert(0, os.getcwd())  # as `python -m MODULE` run from here would
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
