"""Ticket intake: tickets created per second through the HTTP API, kefu against django-helpdesk.

Run with kefu's virtualenv::

    .venv/bin/python bench/ticket_intake.py --db sqlite
    .venv/bin/python bench/ticket_intake.py --db postgres --duration 10 --server-workers 2

Everything is set up by the script, every time from scratch, and torn down at the end:

- django-helpdesk (pinned, with its REST API) in its own virtualenv under
  ``var/bench/helpdesk-venv``, hosted by the minimal project in ``bench/helpdesk_project``;
  created once, reused while the pins are unchanged.
- Fresh databases of the chosen engine for both: SQLite files in a temporary directory under
  ``var/bench``, or the PostgreSQL databases ``kefu_bench`` and ``helpdesk_bench`` (dropped
  and created again).
- kefu: migrate, client ``BENCH``, an agent serving it, an API token. django-helpdesk:
  migrate, one queue, a staff user, a REST framework token.
- Both served by uvicorn with the same number of worker processes, access log off, on
  127.0.0.1 only.

One load generator drives both: N threads, each with its own keep-alive HTTP connection,
POSTing tickets (Chinese subject and body, a customer e-mail from a pool of repeat customers)
back to back for a warm-up and then a measured window. Only 2xx answers count as tickets;
anything else is reported as an error. The systems take turns, round by round (``--rounds``,
median kept), each round on a freshly started server, so that other work on the machine
weighs on both alike. The table gives tickets/s, p50/p95 latency and errors per system and
concurrency, and the ratio kefu / django-helpdesk.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
sys.path.insert(0, str(BENCH_DIR))
from servers import HOST, Server, free_port, log, serving  # noqa: E402

KEFU_PYTHON = ROOT / ".venv" / "bin" / "python"
WORK_DIR = ROOT / "var" / "bench"
HD_VENV = WORK_DIR / "helpdesk-venv"
HD_PYTHON = HD_VENV / "bin" / "python"
HD_VERSION = "2.6.1"
# The baseline's direct requirements, pinned; Django, uvicorn (with the httptools parser and
# the uvloop event loop it picks up when installed, as kefu's do) and psycopg at kefu's
# versions, so that only the applications differ.
HD_REQUIREMENTS = [
    f"django-helpdesk=={HD_VERSION}",
    "Django==5.2.19",
    "djangorestframework==3.18.3",
    "uvicorn==0.54.0",
    "httptools==0.9.0",
    "uvloop==0.23.0",
    "psycopg[binary]==3.3.9",
]
KEFU_CLIENT = "BENCH"
AGENT = "bench-agent"
PG_DATABASES = {"kefu": "kefu_bench", "helpdesk": "helpdesk_bench"}

# Targets from the issue.
TARGET_RATIO = 3.0
TARGET_PG_RATE_8 = 300.0

SUBJECTS = [
    "无法登录会员账户",
    "订单迟迟没有发货",
    "发票抬头开错了，申请重开",
    "宽带从昨晚开始频繁掉线",
    "退款申请提交一周仍未到账",
    "快递显示已签收但我没收到",
    "积分兑换的礼品少发了一件",
    "修改绑定手机号收不到验证码",
    "投诉营业厅工作人员态度差",
    "建议增加夜间人工客服时段",
    "信用卡年费扣款有疑问",
    "预约的上门维修师傅没来",
]
BODIES = [
    "您好，我从昨天下午开始一直登录不上，提示密码错误，但我确定密码没有改过。麻烦尽快处理。",
    "我在 11 月 3 日下的订单，到现在还显示待发货，客服电话一直占线，请帮忙查一下。",
    "上周开的增值税普通发票抬头写错了公司名称，需要作废重开，附件是营业执照信息。",
    "家里宽带每隔半小时左右就断一次，重启光猫也没用，已经影响在家办公了。",
    "退货已经寄回并显示签收，退款申请提交七天了还没到账，请告知处理进度。",
    "物流信息显示昨天已签收，但家里和快递柜都没有，请联系快递员核实。",
    "用积分兑换了两套餐具，收到的包裹里只有一套，订单号见截图。",
    "换了新手机号，想修改绑定手机，但旧号码已经停机收不到验证码，该怎么办？",
    "今天上午在人民路营业厅办理业务，工作人员很不耐烦，还拒绝解释收费项目。",
    "晚上十点以后只能找智能客服，很多问题解决不了，建议延长人工客服服务时间。",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
CUSTOMER_POOL = 2000  # the longer a run goes, the more tickets come from a known customer


def customer(rng: random.Random) -> tuple[str, str]:
    n = rng.randrange(CUSTOMER_POOL)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
    return name, f"customer{n:05d}@example.com"


# ---------------------------------------------------------------------------------------
# processes


def run(argv: list[str | Path], *, env: dict[str, str], cwd: Path) -> str:
    """Run a set-up command; on failure print its output and stop the benchmark."""
    proc = subprocess.run(
        [str(a) for a in argv], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"set-up step failed ({proc.returncode}): {' '.join(map(str, argv))}")
    return proc.stdout


def marked(output: str, marker: str) -> str:
    """The value a set-up snippet printed after ``marker`` (shells print banners too)."""
    for line in output.splitlines():
        if line.startswith(marker):
            return line[len(marker) :].strip()
    raise SystemExit(f"set-up output lacks {marker!r}:\n{output[-2000:]}")


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "DATABASE_URL",
        "KEFU_VAR_DIR",
        "DJANGO_SETTINGS_MODULE",
        "PYTHONPATH",
        "HELPDESK_NEW_TICKET_WEBHOOK_URLS",
        "HELPDESK_FOLLOWUP_WEBHOOK_URLS",
    ):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# uvicorn --workers N binds its listening socket without IPPROTO_TCP, so asyncio never turns on
# TCP_NODELAY for the accepted connections and, on a keep-alive connection, every response
# waits ~40 ms for the client's delayed ACK (uvicorn issue #3149). That stall would swamp the
# applications' own cost, so both systems are served by this launcher: uvicorn's own
# multiprocess supervisor, handed a listener created as a TCP socket. ``--stock-uvicorn``
# serves them with the plain command instead. Both run on uvloop with the httptools parser
# (named here, so that a virtualenv without them fails instead of falling back).
SERVE = """
import socket, sys
from uvicorn.config import Config
from uvicorn.server import Server
from uvicorn.supervisors.multiprocess import Multiprocess
app, host, port, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
config = Config(
    app, host=host, port=port, workers=workers, log_level="warning", access_log=False,
    loop="uvloop", http="httptools",
)
if workers == 1:
    Server(config).run()
else:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()
"""


def uvicorn_argv(python: Path, app: str, port: int, workers: int, stock: bool) -> list[str]:
    if not stock:
        return [str(python), "-c", SERVE, app, HOST, str(port), str(workers)]
    return [
        str(python),
        "-m",
        "uvicorn",
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


# ---------------------------------------------------------------------------------------
# databases


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str

    def url(self, db: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{db}"

    def _args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def recreate(self, db: str) -> None:
        env = base_env()
        run(["dropdb", *self._args(), "--if-exists", "--force", db], env=env, cwd=ROOT)
        run(["createdb", *self._args(), db], env=env, cwd=ROOT)

    def drop(self, db: str) -> None:
        subprocess.run(
            ["dropdb", *self._args(), "--if-exists", "--force", db],
            capture_output=True,
            check=False,
        )

    def version(self) -> str:
        out = run(
            ["psql", *self._args(), "-Atc", "show server_version", "postgres"],
            env=base_env(),
            cwd=ROOT,
        )
        return out.strip().split()[0]


# ---------------------------------------------------------------------------------------
# systems under test


@dataclass
class System:
    name: str
    server: Server
    path: str
    headers: dict[str, str]
    payload: Callable[[random.Random], dict[str, object]]
    queries: str = "?"


KEFU_SETUP = """
from kefu.accounts.models import User
from kefu.contracts.models import Client
client = Client.objects.get(code={client!r})
agent = User.objects.create_user({agent!r}, role="agent", display_name="基准坐席")
agent.clients.add(client)
print("BENCH-AGENT", agent.pk)
"""

# Counts the SQL statements of one API create, through Django's test client in the server's
# own settings: a first ticket from a new customer, then one from a customer already known.
COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
http = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION={auth!r})
counts = []
for n in range(3):
    body = json.dumps({payload}, ensure_ascii=False)
    with CaptureQueriesContext(connection) as ctx:
        r = http.post({path!r}, body, content_type="application/json")
    assert 200 <= r.status_code < 300, (r.status_code, r.content[:500])
    counts.append(len(ctx.captured_queries))
print("BENCH-QUERIES", "/".join(map(str, counts)))
"""


SLA_POLICY = """\
client: {client}
name: 基准测试服务水平协议
targets:
  - {{metric: acknowledge, minutes: 120, calendar: cn-standard}}
  - {{metric: first_response, minutes: 240, calendar: cn-standard}}
  - {{metric: resolution, minutes: 240, calendar: 7x24, priorities: [urgent]}}
  - {{metric: resolution, minutes: 2700, calendar: cn-standard}}
"""


def kefu_payload(rng: random.Random) -> dict[str, object]:
    name, email = customer(rng)
    return {
        "client": KEFU_CLIENT,
        "subject": rng.choice(SUBJECTS),
        "body": rng.choice(BODIES),
        "channel": "email",
        "customer": {"name": name, "email": email},
    }


def setup_kefu(args: argparse.Namespace, work: Path) -> System:
    env = base_env()
    env["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    env["KEFU_VAR_DIR"] = str(work / "kefu-var")
    env["KEFU_LOG_LEVEL"] = "WARNING"
    if args.db == "postgres":
        args.pg.recreate(PG_DATABASES["kefu"])
        env["DATABASE_URL"] = args.pg.url(PG_DATABASES["kefu"])
    src = args.kefu_src
    kefu = [str(KEFU_PYTHON), "-m", "kefu"]  # the `kefu` command, run from the tree under test
    log(f"kefu: migrate ({args.db})")
    run([*kefu, "migrate", "--noinput"], env=env, cwd=src)
    run(
        [*kefu, "client", "create", "--code", KEFU_CLIENT, "--name", "基准测试甲方"],
        env=env,
        cwd=src,
    )
    run(
        [*kefu, "shell", "-c", KEFU_SETUP.format(client=KEFU_CLIENT, agent=AGENT)],
        env=env,
        cwd=src,
    )
    if args.sla:
        # A contract's time promises, as every real client has: each ticket starts its clocks.
        for name in ("cn-standard", "7x24"):
            calendar = src / "examples" / "calendars" / f"{name}.yaml"
            run([*kefu, "calendar", "load", calendar], env=env, cwd=src)
        policy = work / "bench-sla.yaml"
        policy.write_text(SLA_POLICY.format(client=KEFU_CLIENT), encoding="utf-8")
        run([*kefu, "sla", "load", policy], env=env, cwd=src)
    token = run(
        [*kefu, "token", "create", "--user", AGENT, "--name", "bench", "--scope", "write"],
        env=env,
        cwd=src,
    )
    token = token.strip().splitlines()[-1]
    auth = f"Bearer {token}"
    path = "/api/v1/tickets"
    payload = kefu_payload(random.Random(0))
    queries = marked(
        run(
            [*kefu, "shell", "-c", COUNT_QUERIES.format(auth=auth, path=path, payload=payload)],
            env=env,
            cwd=src,
        ),
        "BENCH-QUERIES",
    )
    port = free_port()
    server = Server(
        "kefu",
        uvicorn_argv(
            KEFU_PYTHON, "kefu.asgi:application", port, args.server_workers, args.stock_uvicorn
        ),
        env,
        src,
        port,
        work / "kefu-server.log",
    )
    return System("kefu", server, path, {"Authorization": auth}, kefu_payload, queries=queries)


HD_SETUP = """
from django.contrib.auth import get_user_model
from helpdesk.models import Queue
from rest_framework.authtoken.models import Token
queue = Queue.objects.create(title="基准测试队列", slug="bench")
agent = get_user_model().objects.create_user(
    {agent!r}, email="agent@example.com", is_staff=True, first_name="基准坐席"
)
token = Token.objects.create(user=agent)
print("BENCH-QUEUE", queue.pk)
print("BENCH-TOKEN", token.key)
"""


def helpdesk_venv() -> None:
    """Create var/bench/helpdesk-venv once, on kefu's own interpreter (the one running this
    script), so that both systems run on the same Python build; made again when the pins
    or that interpreter change."""
    stamp = HD_VENV / "bench-requirements.txt"
    interpreter = f"# python {sys.base_prefix} {sys.version.split()[0]}"
    wanted = "\n".join([interpreter, *HD_REQUIREMENTS]) + "\n"
    if HD_PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    log(f"creating {HD_VENV.relative_to(ROOT)} (django-helpdesk {HD_VERSION})")
    env = base_env()
    if HD_VENV.exists():
        shutil.rmtree(HD_VENV)
    run([sys.executable, "-m", "venv", HD_VENV], env=env, cwd=ROOT)
    run(
        [
            HD_PYTHON,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *HD_REQUIREMENTS,
        ],
        env=env,
        cwd=ROOT,
    )
    stamp.write_text(wanted)


def setup_helpdesk(args: argparse.Namespace, work: Path) -> System:
    helpdesk_venv()
    env = base_env()
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk_project.settings"
    env["HD_MEDIA_ROOT"] = str(work / "helpdesk-media")
    if args.db == "postgres":
        args.pg.recreate(PG_DATABASES["helpdesk"])
        env.update(
            HD_DB="postgres",
            HD_DB_NAME=PG_DATABASES["helpdesk"],
            HD_PG_HOST=args.pg.host,
            HD_PG_PORT=str(args.pg.port),
            HD_PG_USER=args.pg.user,
        )
    else:
        env.update(HD_DB="sqlite", HD_DB_NAME=str(work / "helpdesk.sqlite3"))
    django = [str(HD_PYTHON), "-m", "django"]
    log(f"django-helpdesk: migrate ({args.db})")
    run([*django, "migrate", "--noinput"], env=env, cwd=BENCH_DIR)
    out = run([*django, "shell", "-c", HD_SETUP.format(agent=AGENT)], env=env, cwd=BENCH_DIR)
    queue = int(marked(out, "BENCH-QUEUE"))
    auth = f"Token {marked(out, 'BENCH-TOKEN')}"
    path = "/helpdesk/api/tickets/"

    def payload(rng: random.Random) -> dict[str, object]:
        _name, email = customer(rng)
        return {
            "queue": queue,
            "title": rng.choice(SUBJECTS),
            "description": rng.choice(BODIES),
            "submitter_email": email,
            "priority": 3,
        }

    queries = marked(
        run(
            [
                *django,
                "shell",
                "-c",
                COUNT_QUERIES.format(auth=auth, path=path, payload=payload(random.Random(0))),
            ],
            env=env,
            cwd=BENCH_DIR,
        ),
        "BENCH-QUERIES",
    )
    port = free_port()
    server = Server(
        "django-helpdesk",
        uvicorn_argv(
            HD_PYTHON,
            "helpdesk_project.asgi:application",
            port,
            args.server_workers,
            args.stock_uvicorn,
        ),
        env,
        BENCH_DIR,
        port,
        work / "helpdesk-server.log",
    )
    return System("django-helpdesk", server, path, {"Authorization": auth}, payload, queries)


# ---------------------------------------------------------------------------------------
# load


@dataclass
class Result:
    system: str
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # of 2xx answers, in seconds
    errors: Counter[str] = field(default_factory=Counter)
    sample_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class Cell:
    """All rounds of one system at one concurrency."""

    rounds: list[Result] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """The median round: a burst of other work on the machine moves one round, not it."""
        return statistics.median(r.rate for r in self.rounds)

    @property
    def spread(self) -> str:
        rates = [r.rate for r in self.rounds]
        return f"{min(rates):.0f}–{max(rates):.0f}" if len(rates) > 1 else ""

    def percentile(self, p: float) -> float | None:
        pooled = Result("", 0, 1.0, [x for r in self.rounds for x in r.latencies])
        return pooled.percentile(p)

    @property
    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for r in self.rounds:
            total.update(r.errors)
        return total

    @property
    def sample_error(self) -> str:
        return next((r.sample_error for r in self.rounds if r.sample_error), "")


def drive(system: System, clients: int, warmup: float, duration: float) -> Result:
    """``clients`` threads POST tickets back to back over keep-alive connections; answers that
    complete inside the measured window (after the warm-up) are counted."""
    result = Result(system.name, clients, duration)
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    window: list[float] = []
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    headers.update(system.headers)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(HOST, system.server.port, timeout=60)
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        sample = ""
        ready.wait()
        start, end = window
        while True:
            body = json.dumps(system.payload(rng), ensure_ascii=False).encode()
            t0 = time.perf_counter()
            if t0 >= end:
                break
            try:
                conn.request("POST", system.path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                status: str | None = None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status, data = type(exc).__name__, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection(HOST, system.server.port, timeout=60)
            t1 = time.perf_counter()
            if not start <= t1 <= end:
                continue
            if status is None:
                latencies.append(t1 - t0)
            else:
                errors[status] += 1
                sample = sample or data[:300].decode(errors="replace")
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors.update(errors)
            result.sample_error = result.sample_error or sample

    threads = [
        threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(clients)
    ]
    for t in threads:
        t.start()
    now = time.perf_counter()
    window.extend([now + warmup, now + warmup + duration])
    ready.wait()
    for t in threads:
        t.join()
    return result


def smoke(system: System) -> None:
    """One ticket before the load, so a broken set-up fails loudly instead of timing errors."""
    conn = http.client.HTTPConnection(HOST, system.server.port, timeout=60)
    body = json.dumps(system.payload(random.Random(1)), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **system.headers}
    try:
        conn.request("POST", system.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        raise SystemExit(
            f"{system.name}: POST {system.path} answered {resp.status}: {data[:500]!r}\n"
            + system.server.log_tail()
        )


# ---------------------------------------------------------------------------------------
# report


def fmt_ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def fmt_errors(errors: Counter[str]) -> str:
    if not errors:
        return "0"
    return f"{sum(errors.values())} (" + ", ".join(f"{k}×{v}" for k, v in errors.items()) + ")"


def kefu_revision(src: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(src), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "not a git checkout"


def report(
    args: argparse.Namespace,
    systems: list[System],
    cells: dict[tuple[str, int], Cell],
    db_label: str,
    load_before: float,
) -> None:
    print()
    print("Ticket intake — tickets created per second through the HTTP API")
    print(f"  database:  {db_label}")
    print(
        f"  servers:   uvicorn {'--workers (stock)' if args.stock_uvicorn else 'supervisor'}"
        f"{'' if args.stock_uvicorn else ' on uvloop + httptools'}, "
        f"{args.server_workers} worker process(es) each, access log off, {HOST} only"
    )
    print(
        f"  load:      one process, N threads with keep-alive connections, each POSTing back to "
        f"back; {args.rounds} round(s) per cell, systems alternating, each {args.warmup:g} s "
        f"warm-up + {args.duration:g} s measured; only 2xx counted"
    )
    print(
        f"  machine:   {os.cpu_count()} CPUs, load average {load_before:.2f} before the run "
        "(other work on the machine skews the figures)"
    )
    print(
        f"  versions:  kefu {kefu_revision(args.kefu_src)} ({args.kefu_src}), "
        f"django-helpdesk {HD_VERSION} (Django REST framework API, token auth)"
    )
    print(f"  python:    {sys.version.split()[0]} from {sys.base_prefix}, for both systems")
    print(
        "  kefu SLA:  "
        + (
            "policy with 4 targets (acknowledge, first response, 2× resolution): 3 clocks/ticket"
            if args.sla
            else "no policy (no clocks started; --sla adds one)"
        )
    )
    print(
        "  SQL queries per create (new customer / known / known): "
        + ", ".join(f"{s.name} {s.queries}" for s in systems)
    )
    print()
    head = (
        f"{'clients':>7}  {'system':<16} {'tickets/s':>10} {'rounds':>9} {'p50 ms':>8} "
        f"{'p95 ms':>8}  errors"
    )
    print(head)
    print("-" * len(head))
    for n in args.clients:
        for s in systems:
            c = cells[(s.name, n)]
            print(
                f"{n:>7}  {s.name:<16} {c.rate:>10.1f} {c.spread:>9} "
                f"{fmt_ms(c.percentile(50)):>8} {fmt_ms(c.percentile(95)):>8}  "
                f"{fmt_errors(c.errors)}"
            )
    print("(tickets/s: median of the rounds, with the lowest–highest round; latencies: all rounds)")
    print()
    verdicts: list[str] = []
    if len(systems) == 2:
        for n in args.clients:
            k, h = cells[("kefu", n)], cells[("django-helpdesk", n)]
            ratio = k.rate / h.rate if h.rate else float("inf")
            ok = "met" if ratio >= TARGET_RATIO else "MISSED"
            print(f"ratio kefu / django-helpdesk, {n} client(s): {ratio:.2f}×")
            verdicts.append(f"≥{TARGET_RATIO:g}× django-helpdesk at {n} client(s): {ok}")
    if args.db == "postgres" and 8 in args.clients and ("kefu", 8) in cells:
        rate = cells[("kefu", 8)].rate
        ok = "met" if rate >= TARGET_PG_RATE_8 else "MISSED"
        verdicts.append(f"≥{TARGET_PG_RATE_8:g} tickets/s on PostgreSQL with 8 clients: {ok}")
    for v in verdicts:
        print("target " + v)
    for (name, n), c in cells.items():
        if c.sample_error:
            print(f"first error body, {name} at {n} client(s): {c.sample_error!r}")


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    p.add_argument(
        "--rounds", type=int, default=3, help="rounds per system and concurrency, median kept (3)"
    )
    p.add_argument(
        "--server-workers", type=int, default=2, help="uvicorn worker processes per system (2)"
    )
    p.add_argument(
        "--clients", default="1,8", help="comma-separated concurrency levels (default 1,8)"
    )
    p.add_argument(
        "--only", choices=["kefu", "helpdesk"], help="run one system (no ratio is printed)"
    )
    p.add_argument(
        "--kefu-src",
        type=Path,
        default=ROOT,
        help="kefu tree to benchmark, run with this checkout's .venv (default: this checkout)",
    )
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument(
        "--sla",
        action="store_true",
        help="give kefu's client an SLA policy (examples/calendars), so each ticket starts clocks",
    )
    p.add_argument(
        "--stock-uvicorn",
        action="store_true",
        help="serve with the plain `uvicorn --workers N` command (keeps its ~40 ms Nagle stall)",
    )
    p.add_argument("--keep", action="store_true", help="keep the databases and server logs")
    p.add_argument(
        "--pg-suffix",
        default="",
        help="append this to the PostgreSQL databases' names (runs side by side on one server)",
    )
    args = p.parse_args(argv)
    try:
        args.clients = sorted({int(c) for c in args.clients.split(",") if c.strip()})
    except ValueError:
        p.error("--clients takes numbers, e.g. 1,8")
    if not args.clients or min(args.clients) < 1:
        p.error("--clients takes numbers ≥ 1, e.g. 1,8")
    if args.duration <= 0 or args.warmup < 0 or args.server_workers < 1 or args.rounds < 1:
        p.error("--duration must be > 0, --warmup ≥ 0, --server-workers and --rounds ≥ 1")
    if args.pg_host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("the benchmark talks to the loopback interface only")
    args.kefu_src = args.kefu_src.resolve()
    if not (args.kefu_src / "kefu" / "settings.py").exists():
        p.error(f"--kefu-src {args.kefu_src} holds no kefu/settings.py")
    args.pg = Postgres(args.pg_host, args.pg_port, args.pg_user)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in PG_DATABASES:
        PG_DATABASES[name] += args.pg_suffix
    if not KEFU_PYTHON.exists():
        raise SystemExit(f"{KEFU_PYTHON} is missing: run `make install` first")
    load_before = os.getloadavg()[0]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ticket-intake-", dir=WORK_DIR))
    db_label = "SQLite (WAL, synchronous=NORMAL), one file per system, in a temporary directory"
    if args.db == "postgres":
        db_label = (
            f"PostgreSQL {args.pg.version()} on {args.pg.host}:{args.pg.port}, fresh databases "
            + " and ".join(PG_DATABASES.values())
        )
    setups = {"kefu": setup_kefu, "helpdesk": setup_helpdesk}
    chosen = [args.only] if args.only else ["kefu", "helpdesk"]
    cells: dict[tuple[str, int], Cell] = {}
    try:
        systems = [setups[key](args, work) for key in chosen]
        # The systems take turns, round by round, so that background load falls on both alike.
        # Only one server runs at a time, started afresh for its round: what one leaves behind
        # (idle database connections, a busy process) cannot weigh on the other.
        for n in args.clients:
            for round_ in range(args.rounds):
                order = systems if round_ % 2 == 0 else systems[::-1]
                for system in order:
                    with serving(system.server):
                        smoke(system)
                        r = drive(system, n, args.warmup, args.duration)
                        proc = system.server.proc
                        if proc is not None and proc.poll() is not None:
                            raise SystemExit(f"{system.name} died:\n{system.server.log_tail()}")
                    log(
                        f"{system.name}: {n} client(s), round {round_ + 1}/{args.rounds}: "
                        f"{r.rate:.1f} tickets/s"
                        + (f", errors {fmt_errors(r.errors)}" if r.errors else "")
                    )
                    cells.setdefault((system.name, n), Cell()).rounds.append(r)
        report(args, systems, cells, db_label, load_before)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            if args.db == "postgres":
                for db in PG_DATABASES.values():
                    args.pg.drop(db)
    return 1 if any(c.errors for c in cells.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
