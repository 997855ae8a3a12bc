"""CPU per API ticket create in-process, with each per-request feature switched off in turn:
what the request line, the metrics middleware and the request id cost on top of the rest.

    .venv/bin/python bench/request_cost.py --db postgres [--creates 1500] [--alternations 3]

Sets up a fresh database as bench/ticket_intake.py does (its client, agent and token), then
posts tickets through Django's test client, which loads the middleware chain in sync mode
as ``kefu serve`` does (kefu/asgi.py), one variant after another, ``--alternations`` times.
Each figure is the CPU time of this thread per create (``time.thread_time``): independent of
other programs' load, except through caches. The request log goes to a file, as a server's
does.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import ticket_intake as ti  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--pg-host", default="127.0.0.1")
    ap.add_argument("--pg-port", type=int, default=5432)
    ap.add_argument("--pg-user", default="postgres")
    ap.add_argument("--pg-database", default="kefu_bench_cost")
    ap.add_argument("--creates", type=int, default=100)
    ap.add_argument("--alternations", type=int, default=15)
    ap.add_argument("--log-format", choices=["text", "json"], default="text")
    ap.add_argument("--variants", default="all,no-metrics,no-log-line,no-request-log,none")
    ap.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions under valgrind's callgrind instead (slow)",
    )
    ap.add_argument(
        "--calls",
        action="store_true",
        help="count function calls (Python and C) per create instead of CPU time",
    )
    ap.add_argument("--measure", metavar="AUTH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args, args.measure)
        return

    work = ti.WORK_DIR / f"cost-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    env = ti.base_env()
    env["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    env["KEFU_VAR_DIR"] = str(work / "kefu-var")
    env["KEFU_LOG_FORMAT"] = args.log_format
    pg = ti.Postgres(args.pg_host, args.pg_port, args.pg_user)
    if args.db == "postgres":
        pg.recreate(args.pg_database)
        env["DATABASE_URL"] = pg.url(args.pg_database)
    kefu = [str(ti.KEFU_PYTHON), "-m", "kefu"]
    src = ROOT
    ti.run([*kefu, "migrate", "--noinput"], env=env, cwd=src)
    client = ["client", "create", "--code", ti.KEFU_CLIENT, "--name", "基准"]
    ti.run([*kefu, *client], env=env, cwd=src)
    ti.run(
        [*kefu, "shell", "-c", ti.KEFU_SETUP.format(client=ti.KEFU_CLIENT, agent=ti.AGENT)],
        env=env,
        cwd=src,
    )
    token = ti.run(
        [*kefu, "token", "create", "--user", ti.AGENT, "--name", "b", "--scope", "write"],
        env=env,
        cwd=src,
    )
    auth = f"Bearer {token.strip().splitlines()[-1]}"
    os.environ.update(env)
    if args.callgrind:
        argv = [a for a in sys.argv[1:] if a != "--callgrind"]
        out = work / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
        cmd += [str(ti.KEFU_PYTHON), __file__, *argv, "--measure", auth]
        subprocess.run(
            cmd, check=True, cwd=ROOT, stderr=subprocess.DEVNULL, env={**env, "KEFU_CALLGRIND": "1"}
        )
    else:
        measure(args, auth)
    if args.db == "postgres":
        pg.drop(args.pg_database)


def _callgrind(command: str) -> None:
    """Ask the valgrind running this process to do ``command`` (``-i on``, ``-z`` …): the
    process must keep running for valgrind to see the request, so poll instead of wait."""
    proc = subprocess.Popen(
        ["callgrind_control", *command.split(), str(os.getpid())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    while proc.poll() is None:
        time.sleep(0.005)


def _counted(dump_dir: Path) -> int:
    """Instructions counted since the last zeroing: dump them (``callgrind_control -d``)
    and read the dump's total."""
    before = set(dump_dir.glob("callgrind.out*"))
    _callgrind("-d")
    (dump,) = set(dump_dir.glob("callgrind.out*")) - before
    for line in dump.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise SystemExit(f"no total in {dump}")


def measure(args: argparse.Namespace, auth: str) -> None:
    callgrind = os.environ.get("KEFU_CALLGRIND") == "1"
    work = Path(os.environ["KEFU_VAR_DIR"]).parent
    # The request lines go to a file, as a server's stderr does under the benchmark.
    log_file = open(work / "requests.log", "w", encoding="utf-8")  # noqa: SIM115
    os.dup2(log_file.fileno(), 2)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    full = list(settings.MIDDLEWARE)
    no_metrics = [m for m in full if "django_prometheus" not in m]
    observers = ("RequestLogMiddleware", "RequestObserverMiddleware")
    no_log = [m for m in full if not m.endswith(observers)]
    variants = {
        "all": (full, True),
        "no-metrics": (no_metrics, True),
        "no-log-line": (full, False),  # middleware on (request id, context), line not written
        "no-request-log": (no_log, True),
        "none": ([m for m in no_metrics if m in no_log], True),
    }
    chosen = args.variants.split(",")
    request_logger = logging.getLogger("kefu.request")
    rng = random.Random(1)
    results: dict[str, list[float]] = {v: [] for v in chosen}

    def batch(name: str, n: int) -> float:
        middleware, line = variants[name]
        request_logger.disabled = not line
        with override_settings(MIDDLEWARE=middleware):
            http = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=auth)
            body = json.dumps(ti.kefu_payload(rng), ensure_ascii=False)
            http.post("/api/v1/tickets", body, content_type="application/json")  # load chain
            bodies = [json.dumps(ti.kefu_payload(rng), ensure_ascii=False) for _ in range(n)]
            calls = [0]

            def count(frame: object, event: str, arg: object) -> None:
                if event in ("call", "c_call"):
                    calls[0] += 1

            if args.calls:
                sys.setprofile(count)
            started = time.thread_time()
            for body in bodies:
                r = http.post("/api/v1/tickets", body, content_type="application/json")
                if r.status_code != 201:
                    raise SystemExit(f"{name}: {r.status_code} {r.content[:300]!r}")
            spent = (time.thread_time() - started) / n * 1e6
            sys.setprofile(None)
            return calls[0] / n if args.calls else spent

    if callgrind:
        for name in chosen:
            batch(name, 30)  # warm-up
        # Forwards, then backwards: a drift along the run weighs on every variant alike.
        for name in (chosen + chosen[::-1]) * max(1, args.alternations // 2):
            middleware, line = variants[name]
            request_logger.disabled = not line
            with override_settings(MIDDLEWARE=middleware):
                http = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=auth)
                bodies = [json.dumps(ti.kefu_payload(rng), ensure_ascii=False) for _ in range(6)]
                for body in bodies:
                    http.post("/api/v1/tickets", body, content_type="application/json")
                bodies = [
                    json.dumps(ti.kefu_payload(rng), ensure_ascii=False)
                    for _ in range(args.creates)
                ]
                # The cyclic collector runs when allocations add up, whichever batch that
                # falls in: collected before each batch and off during it.
                gc.collect()
                gc.disable()
                _callgrind("-i on")
                _callgrind("-z")
                for body in bodies:
                    http.post("/api/v1/tickets", body, content_type="application/json")
                count = _counted(work)
                _callgrind("-i off")
                gc.enable()
            results[name].append(count / args.creates / 1e6)
        base = statistics.median(results[chosen[0]])
        print(f"log format {args.log_format}, {args.creates} creates under callgrind")
        for name in chosen:
            n = statistics.median(results[name])
            each = " ".join(f"{x:.2f}" for x in results[name])
            print(
                f"{name:16} {n:7.2f} M instructions/create ({n - base:+6.3f} vs {chosen[0]});"
                f" each pass: {each}"
            )
        log_file.close()
        return
    for name in chosen:  # warm-up
        batch(name, 200)
    for _ in range(args.alternations):
        for name in chosen:
            results[name].append(batch(name, args.creates))
    base = statistics.median(results[chosen[0]])
    out = sys.stdout
    print(f"log format {args.log_format}, {args.creates} creates x {args.alternations}", file=out)
    print(f"load average before/after: see caller; now {os.getloadavg()}", file=out)
    unit = "calls" if args.calls else "us CPU"
    for name in chosen:
        med = statistics.median(results[name])
        runs = " ".join(f"{x:.0f}" for x in results[name])
        low = min(results[name])
        print(
            f"{name:16} median {med:5.0f} {unit}/create ({med - base:+4.0f} vs {chosen[0]}),"
            f" lowest batch {low:5.0f}; batches: {runs}"
        )
    log_file.close()


if __name__ == "__main__":
    main()
