"""kefu served as ``kefu serve`` serves it: requests through the ASGI application
(kefu/asgi.py), whose threads and database connections live across requests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db.models.fields.files import FieldFile
from django.test import Client as HttpClient

from kefu.accounts.models import TokenScope, User
from kefu.accounts.services import api_token_create, api_token_revoke
from kefu.asgi import KefuASGIHandler
from kefu.calendars.services import calendar_load
from kefu.conftest import Tenant
from kefu.privacy import selectors as privacy_selectors
from kefu.sla.models import SlaClock
from kefu.sla.policies import sla_policy_apply
from kefu.tickets.models import Attachment, Customer, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    parts: int = 0  # body messages that carried bytes

    def json(self) -> Any:
        return json.loads(self.body)


trace: list[str] = []  # what the server did, in order, across one test's requests


@dataclass
class Asgi:
    app: KefuASGIHandler
    cookies: dict[str, str] = field(default_factory=dict)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        head = {"host": "127.0.0.1", "content-type": "application/json", **(headers or {})}
        if self.cookies:
            head["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in head.items()]
            + [(b"content-length", str(len(raw)).encode())],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        messages = [{"type": "http.request", "body": raw, "more_body": False}]
        answer = Answer(0, {})

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            elif message.get("body"):
                answer.body += message["body"]
                answer.parts += 1
                trace.append("body")

        await self.app(scope, receive, send)
        return answer

    def run(self, method: str, path: str, body: Any = None, **headers: str) -> Answer:
        return asyncio.run(self.request(method, path, body, headers))


@pytest.fixture
def asgi() -> Iterator[Asgi]:
    app = KefuASGIHandler(keep_idle_threads=4)
    trace.clear()
    yield Asgi(app)
    app.close()


@pytest.fixture
def request_signals() -> Iterator[list[tuple[str, int]]]:
    """Each request_started / request_finished, with the thread it ran on."""
    seen: list[tuple[str, int]] = []

    def started(**kwargs: Any) -> None:
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        seen.append(("finished", threading.get_ident()))
        trace.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


def bearer(user: User) -> dict[str, str]:
    _token, raw = api_token_create(user=user, name="asgi", scope=TokenScope.WRITE)
    return {"authorization": f"Bearer {raw}"}


def ticket_body(tenant: Tenant, subject: str = "宽带频繁掉线") -> dict[str, Any]:
    return {
        "client": tenant.client.code,
        "subject": subject,
        "body": "每隔半小时断一次",
        "channel": "email",
        "customer": {"name": "李娜", "email": "li.na@example.com"},
    }


def test_a_ticket_created_through_the_api_is_stored_with_its_first_message(
    asgi: Asgi, tenant_a: Tenant
) -> None:
    answer = asgi.run("POST", "/api/v1/tickets", ticket_body(tenant_a), **bearer(tenant_a.agent))
    assert answer.status == 201, answer.body
    data = answer.json()
    assert data["number"].startswith(tenant_a.client.ticket_prefix)
    ticket = Ticket.objects.get(pk=data["id"])
    assert ticket.messages.get().body_text == "每隔半小时断一次"
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")


def test_numbers_stay_unique_and_gapless_when_requests_run_at_once(
    asgi: Asgi, tenant_a: Tenant
) -> None:
    headers = bearer(tenant_a.agent)

    async def burst() -> list[Answer]:
        return await asyncio.gather(
            *(
                asgi.request("POST", "/api/v1/tickets", ticket_body(tenant_a, f"并发{i}"), headers)
                for i in range(12)
            )
        )

    answers = asyncio.run(burst())
    assert [a.status for a in answers] == [201] * 12
    numbers = sorted(int(a.json()["number"].rsplit("-", 1)[1]) for a in answers)
    first = numbers[0]
    assert numbers == list(range(first, first + 12))


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "kefu.core.sqlite",
    reason="PostgreSQL's concurrent transactions do not see each other's new customer",
)
def test_one_new_customer_writing_in_at_once_becomes_one_customer(
    asgi: Asgi, tenant_a: Tenant
) -> None:
    headers = bearer(tenant_a.agent)
    body = {**ticket_body(tenant_a), "customer": {"name": "周新", "email": "zhou.xin@example.com"}}
    before = Customer.objects.filter(client=tenant_a.client).count()

    async def burst() -> list[Answer]:
        return await asyncio.gather(
            *(asgi.request("POST", "/api/v1/tickets", body, headers) for _ in range(8))
        )

    answers = asyncio.run(burst())
    assert [a.status for a in answers] == [201] * 8
    assert len({a.json()["customer"]["id"] for a in answers}) == 1
    assert Customer.objects.filter(client=tenant_a.client).count() == before + 1


def test_each_request_sees_its_own_user_when_two_tenants_ask_at_once(
    asgi: Asgi, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    a, b = bearer(tenant_a.agent), bearer(tenant_b.agent)

    async def both() -> list[Answer]:
        calls = [asgi.request("GET", "/api/v1/tickets", headers=h) for h in (a, b) * 4]
        return await asyncio.gather(*calls)

    for i, answer in enumerate(asyncio.run(both())):
        assert answer.status == 200
        tenant = tenant_a if i % 2 == 0 else tenant_b
        assert {t["client"] for t in answer.json()["items"]} == {tenant.client.code}


def test_a_session_without_its_csrf_token_cannot_write_through_the_api(
    asgi: Asgi, tenant_a: Tenant
) -> None:
    http = HttpClient()
    http.force_login(tenant_a.agent)
    asgi.cookies["sessionid"] = http.cookies["sessionid"].value
    before = Ticket.objects.count()
    answer = asgi.run("POST", "/api/v1/tickets", ticket_body(tenant_a))
    assert answer.status == 403
    assert Ticket.objects.count() == before
    # The same session reads fine: it is the write without the token that is refused.
    assert asgi.run("GET", "/api/v1/tickets").status == 200


def test_a_revoked_token_is_refused_on_the_next_request(asgi: Asgi, tenant_a: Tenant) -> None:
    token, raw = api_token_create(user=tenant_a.agent, name="revoke-me")
    headers = {"authorization": f"Bearer {raw}"}
    assert asgi.run("GET", "/api/v1/tickets", **headers).status == 200
    api_token_revoke(token=token, actor=tenant_a.agent)
    assert asgi.run("GET", "/api/v1/tickets", **headers).status == 401


def test_the_audit_export_streams_rows_read_from_the_database(
    asgi: Asgi, admin_user: User, tenant_a: Tenant
) -> None:
    token, _raw = api_token_create(user=tenant_a.agent, name="审计样本")
    api_token_revoke(token=token, actor=admin_user)
    http = HttpClient()
    http.force_login(admin_user)
    asgi.cookies["sessionid"] = http.cookies["sessionid"].value
    answer = asgi.run("GET", "/privacy/audit/export.csv")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.body.decode("utf-8-sig").splitlines()
    assert len(lines) == 3  # the header, the revocation and the creation, newest first
    assert "boss" in lines[1] and "acme_agent" in lines[2]


def test_a_request_starts_and_finishes_once_on_the_thread_that_serves_it(
    asgi: Asgi, tenant_a: Tenant, request_signals: list[tuple[str, int]]
) -> None:
    """The database connection a request opens is released by the same thread, once."""
    headers = bearer(tenant_a.agent)
    assert asgi.run("POST", "/api/v1/tickets", ticket_body(tenant_a), **headers).status == 201
    assert asgi.run("GET", "/api/v1/nowhere", **headers).status == 404
    assert [name for name, _ in request_signals] == ["started", "finished"] * 2
    assert request_signals[0][1] == request_signals[1][1]
    assert request_signals[2][1] == request_signals[3][1]
    assert threading.get_ident() not in {thread for _, thread in request_signals}


def test_a_long_export_is_sent_while_it_is_read_and_finished_after_its_last_row(
    asgi: Asgi,
    admin_user: User,
    tenant_a: Tenant,
    request_signals: list[tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = privacy_selectors.audit_csv_rows

    def traced(*args: Any) -> Iterator[str]:
        for row in rows(*args):
            trace.append("row")
            yield row

    monkeypatch.setattr(privacy_selectors, "audit_csv_rows", traced)
    for n in range(30):
        api_token_create(user=tenant_a.agent, name=f"令牌{n}")
    http = HttpClient()
    http.force_login(admin_user)
    asgi.cookies["sessionid"] = http.cookies["sessionid"].value
    asgi.app.stream_batch = 512  # a few rows per read
    answer = asgi.run("GET", "/privacy/audit/export.csv")
    assert answer.status == 200
    assert len(answer.body.decode("utf-8-sig").splitlines()) == 31
    assert trace.index("body") < len(trace) - trace[::-1].index("row") - 1  # sent while read
    assert 1 < answer.parts < 31  # a few rows per body message
    assert trace[-1] == "finished" and trace.count("finished") == 1
    assert request_signals[0][1] == request_signals[-1][1]


def test_an_attachment_is_sent_whole_in_pieces_and_its_file_closed(
    asgi: Asgi, tenant_a: Tenant, request_signals: list[tuple[str, int]]
) -> None:
    content = bytes(range(256)) * 1000  # 256,000 bytes: four reads of 64 KiB
    attachment = Attachment.objects.create(
        client=tenant_a.client,
        ticket=tenant_a.ticket,
        message=tenant_a.ticket.messages.earliest("pk"),
        file=ContentFile(content, name="现场录像.bin"),
        filename="现场录像.bin",
        content_type="application/octet-stream",
        size=len(content),
    )
    opened: list[Any] = []
    real_open = FieldFile.open

    def tracked(self: FieldFile, mode: str = "rb") -> Any:
        opened.append(real_open(self, mode))
        return opened[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FieldFile, "open", tracked)
        answer = asgi.run("GET", f"/api/v1/attachments/{attachment.pk}", **bearer(tenant_a.agent))
    assert answer.status == 200
    assert answer.body == content
    assert answer.parts == 4
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert opened and opened[0].closed
    assert [name for name, _ in request_signals] == ["started", "finished"]


def test_a_contract_loaded_between_two_tickets_starts_clocks_on_the_second(
    asgi: Asgi, tenant_a: Tenant
) -> None:
    headers = bearer(tenant_a.agent)
    first = asgi.run("POST", "/api/v1/tickets", ticket_body(tenant_a), **headers).json()
    calendar_load(text=(settings.PROJECT_DIR / "examples/calendars/7x24.yaml").read_text())
    sla_policy_apply(
        data={
            "client": tenant_a.client.code,
            "name": "合同时效",
            "targets": [{"metric": "first_response", "minutes": 60, "calendar": "7x24"}],
        }
    )
    second = asgi.run("POST", "/api/v1/tickets", ticket_body(tenant_a), **headers).json()
    assert not SlaClock.objects.filter(ticket_id=first["id"]).exists()
    clock = SlaClock.objects.get(ticket_id=second["id"])
    assert clock.metric == "first_response"
    assert Ticket.objects.get(pk=second["id"]).sla_due_at == clock.due_at


def test_the_server_start_and_stop_are_answered() -> None:
    """uvicorn's lifespan messages get their answers; stopping closes the idle threads."""
    handler = KefuASGIHandler()
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(handler({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
