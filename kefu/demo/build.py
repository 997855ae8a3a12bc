"""The demo data set: two clients whose contracts mirror real outsourcing agreements, a
provider team, client users, and three months of tickets, calls and surveys.

History goes in through the same importer as a client's real history (one code path), which
also replays it into SLA clocks under the contracts' policies; a few escalations then go
through the ticket services, so the demo behaves like a live system."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Role
from kefu.calendars.services import calendar_load, statutory_sync
from kefu.chat.services import widget_create
from kefu.contracts.documents import contract_load
from kefu.contracts.models import Client, Department
from kefu.core.tenancy import ClientOwned
from kefu.demo import kb as demo_kb
from kefu.demo import mail as demo_mail
from kefu.demo import surveys as demo_surveys
from kefu.demo import vocabulary as vocab
from kefu.demo.portal import demo_portal
from kefu.reports.importer import CallIn, SurveyIn, TicketIn, import_history
from kefu.sla import services as sla
from kefu.surveys.senders import VIA as SURVEY_VIA
from kefu.tickets import services
from kefu.tickets.delivery import delivery_send
from kefu.tickets.models import Delivery, DeliveryStatus, Status, Ticket

PASSWORD = "kefu-demo-2026"  # noqa: S105 - the documented demo-only password
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SH = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoClient:
    code: str
    name: str
    prefix: str
    departments: tuple[str, ...]
    conversations: dict[str, list[tuple[str, str, str, str, str]]]
    channels: tuple[tuple[str, int], ...]
    kinds: tuple[tuple[str, int], ...]


CLIENTS = (
    DemoClient(
        "HUAXIN",
        "华信智能家居",
        "HX",
        ("售后技术部", "质量管理部", "客户关系部"),
        vocab.HUAXIN,
        (("phone", 35), ("chat", 25), ("email", 15), ("wechat", 20), ("portal", 5)),
        (("inquiry", 42), ("request", 27), ("fault", 25), ("complaint", 2), ("suggestion", 4)),
    ),
    DemoClient(
        "MINGDA",
        "明达物业服务",
        "MD",
        ("工程维修部", "客户服务中心"),
        vocab.MINGDA,
        (("phone", 45), ("wechat", 30), ("portal", 15), ("email", 10)),
        (("inquiry", 32), ("request", 31), ("fault", 29), ("complaint", 4), ("suggestion", 4)),
    ),
)

LOGINS = [
    ("admin", "乙方管理员 provider admin", "全部甲方与管理后台 / all clients, /admin/"),
    ("zhuguan1", "主管 supervisor", "华信、明达的队列与时效 / both clients"),
    ("zhuguan2", "主管 supervisor", "明达 / MINGDA"),
    ("kefu01 … kefu20", "客服坐席 agent", "所负责甲方的工单 / their clients' tickets"),
    ("huaxin_audit", "甲方联系人 client auditor", "华信，只读 / HUAXIN, read-only"),
    ("mingda_audit", "甲方联系人 client auditor", "明达，只读 / MINGDA, read-only"),
    ("huaxin_tech", "甲方指定部门 department", "升级到华信售后技术部的工单"),
    ("mingda_eng", "甲方指定部门 department", "升级到明达工程维修部的工单"),
]


def exists() -> bool:
    return Client.objects.filter(code__in=[c.code for c in CLIENTS]).exists()


@transaction.atomic
def reset() -> None:
    """Delete the demo clients, every row they own, and the demo users.

    Client-owned models protect their client and one another, so rows are deleted in
    passes until nothing is left; a model added later is covered without listing it."""
    ids = list(
        Client.objects.filter(code__in=[c.code for c in CLIENTS]).values_list("pk", flat=True)
    )
    demo_mail.reset()
    demo_kb.reset(ids)
    owned = [m for m in apps.get_models() if issubclass(m, ClientOwned)]
    Ticket.tags.through.objects.filter(ticket__client_id__in=ids).delete()
    for _ in range(len(owned) + 1):
        left = False
        for model in owned:
            rows = model._default_manager.filter(client_id__in=ids)
            try:
                with transaction.atomic():
                    rows.delete()
            except ProtectedError:
                left = True
        if not left:
            break
    User.objects.filter(username__in=_usernames()).delete()
    User.objects.filter(client_id__in=ids).delete()
    Department.objects.filter(client_id__in=ids).delete()
    Client.objects.filter(pk__in=ids).delete()


def _usernames() -> list[str]:
    return [
        "admin",
        "zhuguan1",
        "zhuguan2",
        *(f"kefu{i:02d}" for i in range(1, 21)),
        "huaxin_audit",
        "mingda_audit",
        "huaxin_tech",
        "mingda_eng",
    ]


@dataclass(frozen=True)
class _Pace:
    """How long the steps after the agent's first reply take. Every pace offers the same
    number of choices, so each draws the same random numbers: the chat pace changes chat
    tickets and leaves every other ticket of the data set as it was."""

    follow_up: tuple[timedelta, ...]  # first reply → the customer's follow-up
    closing: tuple[timedelta, ...]  # follow-up → the agent's closing reply
    escalate: timedelta  # last reply → escalated to the client's department
    resolve: tuple[timedelta, ...]  # last reply → resolved


def _minutes(*values: int) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=v) for v in values)


# Email, WeChat, portal and phone follow-ups: the matter is worked over hours and days.
_CASE = _Pace(
    follow_up=tuple(timedelta(hours=h) for h in (1, 3, 20)),
    closing=_minutes(10, 40, 120),
    escalate=timedelta(minutes=5),
    resolve=tuple(timedelta(hours=h) for h in (1, 2, 6, 26)),
)
# A chat is one live conversation: the customer answers within minutes and the agent
# resolves the ticket when the conversation ends, so chat AHT (first reply → resolved,
# DESIGN.md) comes out at a few minutes, as in a real contact centre.
_CHAT = _Pace(
    follow_up=_minutes(2, 4, 6),
    closing=_minutes(1, 2, 3),
    escalate=timedelta(minutes=2),
    resolve=_minutes(3, 5, 8, 12),
)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def _work_instant(rng: random.Random, day: datetime) -> datetime:
    if rng.random() < 0.12:  # evenings and nights happen too
        return day.replace(hour=rng.choice([19, 20, 21, 22, 7]), minute=rng.randrange(60))
    hour = rng.choice([9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17])
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


def build(
    *, tickets: int = 3000, seed: int = 20261122, progress: Callable[[int], object] | None = None
) -> dict[str, Any]:
    """Build the whole data set in one transaction; returns counts."""
    rng = random.Random(seed)
    tick = progress or (lambda n: None)
    with transaction.atomic():
        for name in ("cn-standard.yaml", "7x24.yaml"):
            calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
        now = timezone.now()
        statutory_sync(years=list(range(now.year - 1, now.year + 2)))
        people = _people()
        counts: dict[str, Any] = {}
        per_client = [tickets * 6 // 10, tickets - tickets * 6 // 10]
        for spec, n in zip(CLIENTS, per_client, strict=True):
            client = Client.objects.get(code=spec.code)
            contract_load(
                text=(EXAMPLES / "contracts" / f"{spec.code.lower()}.yaml").read_text(
                    encoding="utf-8"
                )
            )
            demo_mail.demo_mailbox(client=client)
            # The widget of the client's website; kefu's own origin may host it too, so
            # that the demo's "try the chat" page works on a fresh machine.
            widget_create(
                client=client,
                name=f"{spec.name}官网",
                origins=[settings.KEFU_BASE_URL, f"https://www.{spec.code.lower()}.example"],
            )
            agents = [u for u in people["agents"] if client in u.clients.all()]
            records = _history(rng, spec, n, agents, now)
            result = import_history(client=client, records=[(0, r) for r in records], progress=tick)
            counts[spec.code] = dict(result.created)
            _make_live(rng, client, now, people)
            _send_queued(client)
            counts.setdefault("portal", {})[spec.code] = demo_portal(client=client, name=spec.name)
            counts[f"{spec.code} kb"] = demo_kb.demo_kb(client=client)
            if spec.code == "HUAXIN":
                counts["mail"] = demo_mail.demo_mail(client=client, now=now)
            counts[spec.code]["survey_mails"] = demo_surveys.demo_surveys(client=client, now=now)
        counts["callback_sample"] = demo_surveys.demo_callback_sample(now=now)
    return counts


def _people() -> dict[str, Any]:
    password = make_password(PASSWORD)
    clients = {}
    for spec in CLIENTS:
        client = Client.objects.create(code=spec.code, name=spec.name, ticket_prefix=spec.prefix)
        clients[spec.code] = client
        for dept in spec.departments:
            Department.objects.create(
                client=client, name=dept, email=f"{spec.code.lower()}-dept@client.example"
            )

    def user(username: str, role: str, display: str, **extra: Any) -> User:
        return User.objects.create(
            username=username,
            role=role,
            display_name=display,
            password=password,
            email=f"{username}@provider.example",
            **extra,
        )

    user("admin", Role.ADMIN, "系统管理员", is_staff=True, is_superuser=True)
    sup1 = user("zhuguan1", Role.SUPERVISOR, "周主管")
    sup1.clients.set(clients.values())
    user("zhuguan2", Role.SUPERVISOR, "吴主管").clients.set([clients["MINGDA"]])
    agents = []
    for i, name in enumerate(vocab.AGENT_NAMES, start=1):
        agent = user(f"kefu{i:02d}", Role.AGENT, name)
        serves = [clients["HUAXIN"]] if i <= 10 else [clients["MINGDA"]]
        if i in (5, 15):
            serves = list(clients.values())
        agent.clients.set(serves)
        agents.append(agent)
    for spec in CLIENTS:
        client = clients[spec.code]
        for j, team in enumerate(("热线组", "在线组", "邮件组")):
            t = Team.objects.create(client=client, name=team)
            t.members.set(
                [a for k, a in enumerate(agents) if client in a.clients.all() and k % 3 == j]
            )
    code = {"HUAXIN": "huaxin", "MINGDA": "mingda"}
    for spec, dept_user in zip(CLIENTS, ("huaxin_tech", "mingda_eng"), strict=True):
        client = clients[spec.code]
        User.objects.create(
            username=f"{code[spec.code]}_audit",
            role=Role.AUDITOR,
            display_name=f"{spec.name}审计",
            client=client,
            password=password,
            email=f"audit@{code[spec.code]}.example",
        )
        User.objects.create(
            username=dept_user,
            role=Role.DEPARTMENT,
            display_name=spec.departments[0],
            client=client,
            department=Department.objects.get(client=client, name=spec.departments[0]),
            password=password,
            email=f"{dept_user}@{code[spec.code]}.example",
        )
    return {"agents": agents, "supervisor": sup1}


def _customer(rng: random.Random, n: int) -> dict[str, str]:
    name = rng.choice(vocab.SURNAMES) + rng.choice(vocab.GIVEN)
    phone = (
        rng.choice(["138", "139", "135", "186", "177", "150", "189"])
        + f"{rng.randrange(10**8):08d}"
    )
    email = (
        f"user{n}@{rng.choice(['qq.com', '163.com', 'example.cn'])}" if rng.random() < 0.4 else ""
    )
    return {"id": f"cust-{n}", "name": name, "phone": phone, "email": email}


def _history(
    rng: random.Random, spec: DemoClient, n: int, agents: list[User], now: datetime
) -> list[Any]:
    records: list[Any] = []
    start = timezone.localtime(now, SH).replace(hour=0, minute=0, second=0, microsecond=0)
    customers = [_customer(rng, k) for k in range(max(n // 2, 1))]
    for i in range(n):
        age_days = int(rng.triangular(0, 92, 8))
        day = start - timedelta(days=age_days)
        if day.weekday() >= 5 and rng.random() < 0.6:
            day -= timedelta(days=day.weekday() - 4)
        created = _work_instant(rng, day)
        if created >= now:
            created = now - timedelta(minutes=rng.randrange(5, 90))
        channel = _weighted(rng, spec.channels)
        kind = _weighted(rng, spec.kinds)
        subject, first, reply, follow, closing = rng.choice(spec.conversations[kind])
        agent = rng.choice(agents).username
        customer = rng.choice(customers)
        age = now - created
        msgs = [{"at": created, "direction": "in", "author": "customer", "body": first}]
        events: list[dict[str, Any]] = []
        t = created + timedelta(minutes=rng.choice([1, 2, 5, 12, 30, 45, 90, 180]))
        fate = rng.random()
        answered = t < now and (age > timedelta(hours=4) or fate < 0.6)
        if answered:
            if channel == "phone":
                # Answered on the call itself (the call is the contact); the agent notes it.
                msgs.append(
                    {
                        "at": t,
                        "direction": "note",
                        "author": f"agent:{agent}",
                        "body": f"通话记录：{reply}",
                    }
                )
            else:
                msgs.append(
                    {"at": t, "direction": "out", "author": f"agent:{agent}", "body": reply}
                )
            if rng.random() < 0.15:
                msgs.append(
                    {
                        "at": t + timedelta(minutes=3),
                        "direction": "note",
                        "author": f"agent:{agent}",
                        "body": "已核实客户信息，跟进中。",
                    }
                )
            pace = _CHAT if channel == "chat" else _CASE
            t2 = t + rng.choice(pace.follow_up)
            if rng.random() < 0.25 and t2 < now:
                msgs.append({"at": t2, "direction": "in", "author": "customer", "body": follow})
                t3 = t2 + rng.choice(pace.closing)
                if t3 < now:
                    msgs.append(
                        {"at": t3, "direction": "out", "author": f"agent:{agent}", "body": closing}
                    )
                t = t3
            if kind in ("complaint", "fault") and rng.random() < 0.2:
                events.append({"at": t + pace.escalate, "type": "escalated"})
            done = t + rng.choice(pace.resolve)
            if age > timedelta(days=2) or (fate < 0.5 and done < now):
                resolved_at = min(done, now - timedelta(minutes=1))
                events.append({"at": resolved_at, "type": "resolved"})
                if age > timedelta(days=9) and rng.random() < 0.85:
                    events.append({"at": resolved_at + timedelta(days=7), "type": "closed"})
                elif rng.random() < 0.04:
                    events.append({"at": resolved_at + timedelta(days=1), "type": "reopened"})
            elif fate > 0.8:
                events.append({"at": t + timedelta(minutes=1), "type": "pending"})
        events = [e for e in events if e["at"] < now]
        tag = rng.choice(vocab.TAGS[spec.code])
        records.append(
            TicketIn.model_validate(
                {
                    "type": "ticket",
                    "id": f"demo-{spec.code}-{i}",
                    "channel": channel,
                    "kind": kind,
                    "priority": rng.choices(["low", "normal", "high", "urgent"], [10, 70, 15, 5])[
                        0
                    ],
                    "subject": subject,
                    "customer": customer,
                    "created_at": created,
                    "messages": msgs,
                    "events": events,
                    "assignee": agent if answered or rng.random() < 0.5 else None,
                    "tags": [tag],
                }
            )
        )
        if channel == "phone":
            wait = rng.choice([3, 6, 8, 10, 12, 14, 16, 18, 22, 35])
            abandoned = rng.random() < 0.04
            offered = created - timedelta(seconds=wait + 200)
            answered_at = None if abandoned else offered + timedelta(seconds=wait)
            ended = (answered_at or offered + timedelta(seconds=wait)) + timedelta(
                seconds=0 if abandoned else rng.randrange(90, 480)
            )
            records.append(
                CallIn.model_validate(
                    {
                        "type": "call",
                        "id": f"demo-call-{spec.code}-{i}",
                        "offered_at": offered,
                        "answered_at": answered_at,
                        "ended_at": ended,
                        "hold_s": rng.choice([0, 0, 0, 20, 45]),
                        "acw_s": rng.randrange(20, 120),
                        "agent": None if abandoned else agent,
                        "queue": "热线",
                        "ticket": None if abandoned else f"demo-{spec.code}-{i}",
                    }
                )
            )
        resolved = [e for e in events if e["type"] == "resolved"]
        if resolved and rng.random() < 0.6:
            sent = resolved[0]["at"] + timedelta(hours=1)
            if sent < now:
                score = rng.choices([5, 4, 3, 2, 1], [62, 30, 5, 2, 1])[0]
                reply_at = sent + timedelta(hours=2)
                replied = rng.random() < 0.7 and reply_at < now
                records.append(
                    SurveyIn.model_validate(
                        {
                            "type": "survey",
                            "id": f"demo-survey-{spec.code}-{i}",
                            "ticket": f"demo-{spec.code}-{i}",
                            "sent_at": sent,
                            "answered_at": reply_at if replied else None,
                            "score": score if replied else None,
                            "comment": rng.choice(
                                ["", "很满意", "响应很快", "希望更快一点", "师傅很专业"]
                            )
                            if replied
                            else "",
                            "channel": SURVEY_VIA.get(channel, "sms"),
                        }
                    )
                )
    # Numbered in the order they were opened, as a live system numbers them (the importer
    # numbers tickets in record order; calls and surveys find theirs by id).
    tickets = sorted((r for r in records if isinstance(r, TicketIn)), key=lambda r: r.created_at)
    return [*tickets, *(r for r in records if not isinstance(r, TicketIn))]


def _send_queued(client: Client) -> None:
    """Send what the demo's live work queued (escalation notices), as the task worker
    would once the build commits: the demo's mailboxes write files, so they are sent."""
    queued = Delivery.objects.filter(client=client, status=DeliveryStatus.QUEUED)
    for pk in list(queued.values_list("pk", flat=True)):
        delivery_send(delivery_id=pk)


def _make_live(
    rng: random.Random,
    client: Client,
    now: datetime,
    people: dict[str, Any],
) -> None:
    """Record the warnings due by now on the SLA clocks the import replayed from the
    history (breaches before now are already recorded, as history), and escalate a few
    open tickets to the client's departments."""
    sla.sla_sweep(now=now, limit=100_000)
    open_tickets = Ticket.objects.filter(
        client=client, status__in=[Status.NEW, Status.OPEN, Status.PENDING]
    ).order_by("created_at")

    answerer = User.objects.select_related("department").get(client=client, role=Role.DEPARTMENT)
    department = answerer.department
    assert department is not None
    # Faults and complaints first: those are what contracts escalate to the client.
    candidates = sorted(open_tickets, key=lambda t: t.kind not in ("fault", "complaint"))[:8]
    for k, ticket in enumerate(candidates):
        agent = ticket.assignee or people["supervisor"]
        escalation = services.ticket_escalate(
            ticket=ticket,
            actor=agent,
            department=department,
            reason="需要甲方部门确认处理方案",
            expected_by=now + timedelta(days=rng.randint(1, 3)),
        )
        if k % 3 == 1:
            services.escalation_answer(
                escalation=escalation, actor=answerer, answer="已安排专人跟进，预计明天处理完毕。"
            )
