"""Shared fixtures: two clients (A and B) with a user of every role each, built through the
real services so tests exercise what users exercise."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from hypothesis import settings as hypothesis_settings

from kefu.accounts.models import TokenScope, User
from kefu.accounts.roles import Role
from kefu.accounts.services import api_token_create
from kefu.contracts.models import Client, Department
from kefu.contracts.services import client_create, department_create
from kefu.mail.models import FILE_TRANSPORT, Mailbox
from kefu.tickets import services
from kefu.tickets.channels import (
    Accepted,
    channel_adapter,
    channel_register,
    channel_unregister,
)
from kefu.tickets.delivery import delivery_send
from kefu.tickets.models import Customer, Delivery, DeliveryStatus, Escalation, Ticket

PASSWORD = "test-pass-2026"


# Property tests check correctness; speed is measured in bench/. A busy CI machine may take
# longer than hypothesis' default 200 ms for one example, which must not fail a test.
hypothesis_settings.register_profile("kefu", deadline=None)
hypothesis_settings.load_profile("kefu")


@dataclass
class Tenant:
    client: Client
    department: Department
    agent: User
    supervisor: User
    auditor: User
    department_user: User
    customer: Customer
    ticket: Ticket
    escalation: Escalation


def _user(username: str, role: str, **extra: object) -> User:
    user = User(username=username, role=role, email=f"{username}@example.com", **extra)
    user.set_password(PASSWORD)
    user.full_clean()
    user.save()
    return user


def deliver_queued() -> list[str]:
    """Send every queued reply now, as the task worker would after the commit (test
    transactions never commit); returns the outcomes."""
    ids = Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("pk", flat=True)
    return [delivery_send(delivery_id=pk) for pk in list(ids)]


class LoopbackAdapter:
    """A stand-in transport for a channel whose app does not exist yet (chat, WeChat,
    portal): every reply is accepted when sent."""

    reply_form = None
    resendable = True
    confirm_within = None

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def transport_problem(self, *, ticket: Ticket) -> str | None:
        return None

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None:
        return None

    def send(self, *, delivery: Delivery) -> Accepted:
        return Accepted(at=timezone.now(), external_id=f"loopback:{delivery.pk}")


@pytest.fixture
def loopback_chat() -> Iterator[LoopbackAdapter]:
    """Chat replies go through :class:`LoopbackAdapter` for the test."""
    previous = channel_adapter("chat")
    adapter = LoopbackAdapter("chat")
    channel_register(adapter)
    yield adapter
    channel_unregister("chat")
    if previous is not None:
        channel_register(previous)


def make_tenant(code: str, name: str) -> Tenant:
    client = client_create(code=code, name=name)
    # Replies on email tickets need a mailbox that can send: this one writes files.
    Mailbox.objects.create(
        client=client, address=f"outbox@{code.lower()}.kefu.test", smtp_host=FILE_TRANSPORT
    )
    department = department_create(client=client, name=f"{name}售后部")
    agent = _user(f"{code.lower()}_agent", Role.AGENT)
    agent.clients.add(client)
    supervisor = _user(f"{code.lower()}_sup", Role.SUPERVISOR)
    supervisor.clients.add(client)
    auditor = _user(f"{code.lower()}_audit", Role.AUDITOR, client=client)
    dept_user = _user(f"{code.lower()}_dept", Role.DEPARTMENT, client=client, department=department)
    customer = services.customer_create(
        client=client,
        data=services.CustomerData(name="王小明", phone="13800138000", email=f"wang@{code}.cn"),
    )
    ticket = services.ticket_create(
        client=client,
        subject=f"{name}：空调不制冷",
        body="你好，家里的空调从昨天开始不制冷了。",
        channel="email",
        customer=customer,
        actor=agent,
    )
    services.ticket_reply(ticket=ticket, actor=agent, body="您好，请问是哪个型号？")
    services.ticket_add_note(ticket=ticket, actor=agent, body="可能是压缩机故障")
    escalation = services.ticket_escalate(
        ticket=ticket,
        actor=agent,
        department=department,
        reason="需要上门检修",
        expected_by=timezone.now() + timedelta(days=2),
    )
    return Tenant(
        client, department, agent, supervisor, auditor, dept_user, customer, ticket, escalation
    )


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("ACME", "甲方A")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("BETA", "甲方B")


@pytest.fixture
def admin_user(db: None) -> User:
    return _user("boss", Role.ADMIN, is_staff=True, is_superuser=True)


def run_tasks(task_path: str = "") -> int:
    """Run the queued tasks (those whose path ends with ``task_path``) the way ``kefu
    worker`` does, including tasks they enqueue; returns how many ran."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
    )
    ran = 0
    while True:
        queued = DBTaskResult.objects.ready().filter(task_path__endswith=task_path)
        result = queued.order_by("enqueued_at", "id").first()
        if result is None:
            return ran
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1


def login(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def api_client(user: User) -> HttpClient:
    _token, raw = api_token_create(user=user, name="test", scope=TokenScope.WRITE)
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture(autouse=True)
def _mail_outbox(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    # The file transport writes into a directory of the test's own.
    settings.KEFU_MAIL_OUTBOX = tmp_path_factory.mktemp("outbox")  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    # argon2 is deliberately slow; tests hash dozens of passwords and check none of them.
    settings.PASSWORD_HASHERS = [  # type: ignore[attr-defined]
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]


@pytest.fixture(autouse=True)
def _no_scheduled_backup(settings: object) -> None:
    # Tests that run every due job must not back up the test database into var/backups;
    # the backup tests turn it on with a directory of their own.
    settings.KEFU_BACKUP_DIR = ""  # type: ignore[attr-defined]
