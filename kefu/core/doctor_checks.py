"""core's ``kefu doctor`` checks: the database and its migrations, the secret key, the task
worker and the scheduler, the clock against the database's, Redis. Where ``/readyz``
already looks at the same thing (database, Redis, task queue age) the check reuses its
reading (:mod:`kefu.core.health`) and adds what to do about it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kefu.core.doctor import Finding, doctor_register, note, problem
from kefu.core.health import check_database, check_redis, oldest_waiting_task_age
from kefu.core.models import JobRun

# Beyond this the clocks of kefu and its database disagree enough to matter: SLA due
# times, breach instants and audit times are written by both.
MAX_CLOCK_SKEW = timedelta(seconds=5)
# A scheduler ticks every 30 s; a job this long overdue means none runs.
SCHEDULER_LATE = timedelta(minutes=10)


def database() -> Iterator[Finding]:
    try:
        outcome = check_database()
    except Exception as exc:
        yield problem(
            "database",
            f"数据库无法连接 / the database does not answer ({type(exc).__name__})",
            "检查 DATABASE_URL 以及数据库服务是否运行、能否从本机连接 / check DATABASE_URL and "
            "that the database server runs and can be reached from here",
        )
        return
    if not outcome.ok:
        yield problem(
            "database",
            f"数据库答复异常 / the database answered oddly ({outcome.detail})",
            "检查 DATABASE_URL 指向的是否是 kefu 的数据库 / check that DATABASE_URL names "
            "kefu's database",
        )


def migrations() -> Iterator[Finding]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:3])
        more = f" …（共 {len(plan)} 个 / {len(plan)} in all）" if len(plan) > 3 else ""
        yield problem(
            "migrations",
            f"数据库结构不是最新 / the database is not migrated: {names}{more}",
            "停止服务后运行 kefu migrate / run kefu migrate (with the servers stopped)",
        )


def _weak_secret(secret: str) -> bool:
    """Django's own test (``manage.py check --deploy``, security.W009): short, few distinct
    characters, or a placeholder (``startproject``'s, deploy/systemd/kefu.env's)."""
    placeholder = secret.startswith("django-insecure") or "change-me" in secret.lower()
    return len(secret) < 50 or len(set(secret)) < 5 or placeholder


def secret_key() -> Iterator[Finding]:
    if settings.PRODUCTION:
        if _weak_secret(settings.SECRET_KEY):
            yield problem(
                "secret_key",
                "生产环境的 SECRET_KEY 太短、太简单或是示例值 / the production SECRET_KEY is "
                "short, simple or a placeholder: sessions and CSRF tokens can be forged",
                "设置随机的 SECRET_KEY（至少 50 个字符：python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'），重启所有 kefu 进程；所有用户需重新登录 / "
                "set a random SECRET_KEY of 50+ characters and restart every kefu process "
                "(everyone signs in again)",
            )
    elif not settings.EMBEDDED_DATABASE:
        yield note(
            "secret_key",
            "KEFU_PRODUCTION 未设为 1：密钥取自 var/ 下自动生成的文件，Cookie 不限 HTTPS / "
            "KEFU_PRODUCTION is not 1: secret and field keys come from files generated under "
            "var/ (each machine its own), cookies are not HTTPS-only",
            "正式部署请设 KEFU_PRODUCTION=1 并在环境中给出 SECRET_KEY、KEFU_FIELD_KEYS、"
            "KEFU_INDEX_KEY / for a real deployment set KEFU_PRODUCTION=1 with SECRET_KEY, "
            "KEFU_FIELD_KEYS and KEFU_INDEX_KEY in the environment",
        )


def worker() -> Iterator[Finding]:
    """Tasks wait beyond ``KEFU_READY_MAX_TASK_AGE`` (``/readyz``'s limit): with no task
    finished in that time no worker runs; with some, the workers are too few."""
    limit = timedelta(seconds=settings.KEFU_READY_MAX_TASK_AGE)
    age = oldest_waiting_task_age()
    if age is None or age <= limit.total_seconds():
        return
    now = timezone.now()
    last = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    ).aggregate(last=Max("finished_at"))["last"]
    waiting = DBTaskResult.objects.ready().count()
    if last is None or now - last > limit:
        since = (
            "从未有任务完成 / no task has ever finished"
            if last is None
            else (
                f"最近一次完成在 {int((now - last).total_seconds())} 秒前 / the last one finished "
                f"{int((now - last).total_seconds())} s ago"
            )
        )
        yield problem(
            "worker",
            f"任务工作进程没有运行：{waiting} 个任务在等待，最久 {age:.0f} 秒，{since} / no task "
            f"worker is running: {waiting} tasks wait, the oldest for {age:.0f} s",
            "启动 kefu worker（systemd: systemctl start kefu-worker）；嵌入式数据库上由 kefu serve "
            "自带 / start kefu worker (on the embedded database kefu serve runs one itself)",
        )
    else:
        yield problem(
            "worker",
            f"任务积压：{waiting} 个任务在等待，最久 {age:.0f} 秒 / the task queue is behind: "
            f"{waiting} tasks wait, the oldest for {age:.0f} s",
            "增加 kefu worker 进程（PostgreSQL 上可并行多个）/ run more kefu worker processes "
            "(several share the queue on PostgreSQL)",
        )


def scheduler() -> Iterator[Finding]:
    """Periodic jobs that fell due long ago and nobody claimed: no ``kefu scheduler`` (or
    ``kefu serve`` on the embedded database) is running."""
    now = timezone.now()
    free = Q(claim="") | Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    late = JobRun.objects.filter(free, due_at__lt=now - SCHEDULER_LATE).order_by("due_at")
    oldest = late.first()
    if oldest is not None and oldest.due_at is not None:
        minutes = int((now - oldest.due_at).total_seconds() // 60)
        yield problem(
            "scheduler",
            f"定时任务没有执行：{late.count()} 个任务已逾期，最久 {minutes} 分钟"
            f"（如 {oldest.name}）/ the scheduler is not running: {late.count()} periodic "
            f"jobs are overdue, the oldest by {minutes} min ({oldest.name})",
            "启动 kefu scheduler（可运行多个，每个任务只执行一次）/ start kefu scheduler (any "
            "number may run; each job runs once)",
        )


def clock() -> Iterator[Finding]:
    """kefu's clock against the database server's; the round trip is allowed for.
    PostgreSQL's ``clock_timestamp()`` (``now()`` is the start of the transaction); SQLite
    has no server clock: skipped."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        yield note(
            "clock",
            f"{connection.vendor} 没有独立的服务器时钟，跳过时钟偏差检查 / {connection.vendor} "
            "has no server clock of its own: clock skew not checked",
        )
        return
    with connection.cursor() as cursor:
        before = time.time()
        cursor.execute("SELECT clock_timestamp()")
        db_now = cursor.fetchone()[0]
        after = time.time()
    ours = (before + after) / 2
    skew = db_now.timestamp() - ours
    allowed = MAX_CLOCK_SKEW.total_seconds() + (after - before) / 2
    if abs(skew) > allowed:
        ahead = "快" if skew > 0 else "慢"
        yield problem(
            "clock",
            f"数据库服务器的时钟比本机{ahead} {abs(skew):.1f} 秒 / the database server's clock "
            f"is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} this machine's",
            "在两台机器上启用时间同步（chrony 或 systemd-timesyncd，timedatectl status 查看）/ "
            "keep both machines' clocks synchronised (chrony or systemd-timesyncd)",
        )


def redis() -> Iterator[Finding]:
    if not settings.REDIS_URL:
        return
    try:
        check_redis()
    except Exception as exc:
        yield problem(
            "redis",
            f"REDIS_URL 已设置但 Redis 无法连接 / REDIS_URL is set but Redis does not answer "
            f"({type(exc).__name__}): live pages miss events from other processes",
            '启动 Redis 或改正 REDIS_URL（redis-cli -u "$REDIS_URL" ping 应答 PONG）/ '
            'start Redis or correct REDIS_URL (redis-cli -u "$REDIS_URL" ping answers PONG)',
        )


def register() -> None:
    doctor_register(name="database", func=database, needs_database=False, gate=True)
    doctor_register(name="migrations", func=migrations, gate=True)
    doctor_register(name="secret_key", func=secret_key, needs_database=False)
    doctor_register(name="worker", func=worker)
    doctor_register(name="scheduler", func=scheduler)
    doctor_register(name="clock", func=clock)
    doctor_register(name="redis", func=redis, needs_database=False)
