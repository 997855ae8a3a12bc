"""Tenant isolation over every URL kefu serves.

The test walks the URL configuration itself, so a page or endpoint added later is covered
without editing this file: a new path parameter must be named in ``PARAMS`` (the test fails
until it is), and every path is requested with client B's objects by a user of client A.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kefu.conftest import Tenant, api_client, login
from kefu.reports.models import ReportReview, ServiceReport
from kefu.routing import websocket_urlpatterns
from kefu.tickets.models import Escalation, Message, SavedView, Ticket, TicketEvent

# Which of tenant B's objects each path parameter names. "token" rows are per user, not per
# client: they are checked the same way (another user's token is never reachable).
PARAMS = {
    "pk": "ticket",
    # A chat widget's public key (/chat/w/<key>/…: the widget's uploads, no login).
    "key": "widget_key",
    "ticket_id": "ticket",
    "customer_id": "customer",
    "message_id": "message",
    "code": "client_code",
    "label": "month",
    "kind": "file_kind",
    "attachment_id": "attachment",
    "inbound_id": "inbound_mail",
    "identifier_id": "identifier",
    "delivery_id": "delivery",
    "conversation_id": "conversation",
    "widget_id": "widget",
    "review_id": "report_review",
    "view_id": "saved_view",
    # The customer portal (/p/<code>/…): a ticket by its number, a sign-in link's parts.
    "number": "ticket_number",
    "challenge": "challenge",
    "secret": "link_secret",
}
PARAMS_BY_NAME = {
    "tickets:escalation_answer": "escalation",
    "tickets:escalation_info": "escalation",
    "accounts:token_revoke": "token",
    "reports:issued": "report",
    "reports:issued_file": "report",
    "reports:sign_off": "report",
    "reports:dispute": "report",
    "privacy:retention_certificate": "retention_run",
    "surveys:callback": "callback",
    # A survey's answer link needs no login (its signature is the key): one of client B
    # never sent is no page for anybody.
    "survey_answer": "survey_token",
}
# The Django admin is the provider admin's tool over all tenants (is_staff only); users of a
# client are never staff, which test_admin_is_closed_to_client_users checks.
# The help centre (kb_public, /p/<code>/kb/) is public by design: a client's published
# articles are for anyone, and kefu/kb/tests check that only those are shown.
SKIP_NAMESPACES = ("admin", "kb_public")
ROLES = ("agent", "supervisor", "auditor", "department_user")


def _walk(
    resolvers: list[URLPattern | URLResolver], prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, str]]:
    for entry in resolvers:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner_ns = entry.namespace or ns
            yield from _walk(entry.url_patterns, prefix + route, inner_ns)
        else:
            name = f"{ns}:{entry.name}" if ns and entry.name else (entry.name or route)
            yield prefix + route, name


def all_routes() -> list[tuple[str, str]]:
    routes = []
    for route, name in _walk(get_resolver().url_patterns):
        if name.split(":")[0] in SKIP_NAMESPACES or route.startswith("admin/"):
            continue
        if route.startswith("^") or "(?P" in route:  # regex routes (static, media)
            continue
        routes.append((route, name))
    return routes


def _widget(b: Tenant) -> Any:
    from kefu.chat.services import widget_create

    return widget_create(client=b.client, origins=["https://www.widget-b.example"])


def _retention_run(b: Tenant) -> int:
    from datetime import date

    from django.utils import timezone

    from kefu.contracts.models import Contract
    from kefu.privacy.models import RetentionRun

    contract = Contract.objects.create(
        client=b.client,
        number=f"{b.client.code}-R",
        title="合同",
        party_a="甲",
        party_b="乙",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 12, 31),
        monthly_fee=1,
    )
    now = timezone.now()
    run = RetentionRun.objects.create(
        client=b.client, contract=contract, due_date=now.date(), started_at=now, lease_until=now
    )
    return int(run.pk)


def _inbound_mail(b: Tenant) -> int:
    from kefu.mail.models import InboundMail

    row = InboundMail.objects.create(
        client=b.client, source="file", raw=b"x", dedup_key="k", result="quarantined"
    )
    return int(row.pk)


def _conversation(b: Tenant) -> int:
    from kefu.chat.services import conversation_start, widget_create

    widget = widget_create(client=b.client, origins=["https://www.b.example"])
    started = conversation_start(
        widget=widget, name="孙女士", consent=True, notice_version=widget.notice_version
    )
    return int(started.conversation.pk)


def _callback(b: Tenant) -> int:
    from django.utils import timezone

    from kefu.surveys.models import CallbackTask

    now = timezone.now()
    task = CallbackTask.objects.create(
        client=b.client, ticket=b.ticket, kind="sample", created_at=now, due_at=now
    )
    return int(task.pk)


def _survey_token(b: Tenant) -> str:
    from kefu.surveys.links import survey_token
    from kefu.surveys.models import Survey

    return survey_token(Survey.objects.create(client=b.client, status="queued").pk)


def _report_review(b: Tenant, report: ServiceReport) -> int:
    from kefu.reports.review import report_dispute

    return int(report_dispute(report=report, actor=b.auditor, reason="投诉量与我方统计不符").pk)


def _objects(b: Tenant, token_id: int) -> dict[str, object]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.reports.services import report_issue
    from kefu.tickets.services import ticket_add_note

    report = report_issue(client=b.client, month_label="2026-10", actor=None)
    note = ticket_add_note(
        ticket=b.ticket,
        actor=b.agent,
        body="附件",
        attachments=[SimpleUploadedFile("b.txt", "甲方B的附件".encode())],
    )
    return {
        "ticket": b.ticket.pk,
        "widget_key": (widget := _widget(b)).key,
        "widget": widget.pk,
        "customer": b.customer.pk,
        "message": b.ticket.messages.values_list("pk", flat=True)[0],
        "escalation": b.escalation.pk,
        "token": token_id,
        "client_code": b.client.code,
        "month": "2026-10",
        "file_kind": "pdf",
        "report": report.pk,
        "retention_run": _retention_run(b),
        "attachment": note.attachments.get().pk,
        "inbound_mail": _inbound_mail(b),
        "identifier": b.customer.identifiers.values_list("pk", flat=True)[0],
        "delivery": b.ticket.deliveries.values_list("pk", flat=True)[0],
        "conversation": _conversation(b),
        "callback": _callback(b),
        "survey_token": _survey_token(b),
        "report_review": _report_review(b, report),
        "saved_view": SavedView.objects.create(owner=b.agent, name="B 的视图", query="").pk,
        "ticket_number": b.ticket.number,
        "challenge": 1,
        "link_secret": "x" * 32,
    }


def _fill(route: str, name: str, objects: dict[str, object]) -> str:
    def sub(m: re.Match[str]) -> str:
        param = m.group(2)
        kind = PARAMS_BY_NAME.get(name) or PARAMS.get(param)
        assert kind, f"path parameter {param!r} of {name} ({route}) is not in PARAMS"
        return str(objects[kind])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def _snapshot(b: Tenant) -> tuple[object, ...]:
    t = Ticket.objects.get(pk=b.ticket.pk)
    return (
        t.status,
        t.priority,
        t.assignee_id,
        t.kind,
        t.escalated,
        t.subject,
        Message.objects.filter(ticket=t).count(),
        TicketEvent.objects.filter(ticket=t).count(),
        Escalation.objects.get(pk=b.escalation.pk).status,
        ServiceReport.objects.filter(client=b.client, signed_off_at__isnull=False).count(),
        ServiceReport.objects.filter(client=b.client).count(),
        ReportReview.objects.filter(client=b.client).count(),
        ReportReview.objects.filter(client=b.client, answered_at__isnull=False).count(),
    )


BODY = {
    "body": "x",
    "direction": "note",
    "status": "open",
    "priority": "low",
    "answer": "x",
    "reason": "x",
    "subject": "x",
    "kind": "fault",
    "field": "phones",
    "into": 1,
}


@pytest.mark.parametrize("role", ROLES)
def test_other_clients_objects_are_404_everywhere(
    tenant_a: Tenant, tenant_b: Tenant, role: str
) -> None:
    from kefu.accounts.services import api_token_create

    b_token, _raw = api_token_create(user=tenant_b.agent, name="b")
    objects = _objects(tenant_b, b_token.pk)
    a_token, _raw = api_token_create(user=tenant_a.agent, name="a")
    own_objects = _objects(tenant_a, a_token.pk)
    user = getattr(tenant_a, role)
    before = _snapshot(tenant_b)
    checked = 0
    for http, token in ((login(user), False), (api_client(user), True)):
        for route, name in all_routes():
            if "<" not in route or (token and not route.startswith("api/")):
                continue
            url = _fill(route, name, objects)
            for method in ("get", "post", "patch"):
                if method == "get":
                    r = http.get(url)
                elif route.startswith("api/"):
                    r = getattr(http, method)(
                        url, data=json.dumps(BODY), content_type="application/json"
                    )
                elif method == "patch":
                    continue
                else:
                    r = http.post(url, data=BODY)
                if r.status_code == 405:
                    continue
                if r.status_code == 403:
                    # Refused for the role whatever the object: allowed only if the same
                    # request for the user's own client is refused too (no existence leak).
                    own = _fill(route, name, own_objects)
                    assert http.get(own).status_code in (403, 405), (role, own)
                    continue
                assert r.status_code == 404, (role, method, url, r.status_code)
                checked += 1
    assert checked >= 10
    assert _snapshot(tenant_b) == before
    assert not tenant_b.agent.api_tokens.get(pk=b_token.pk).revoked_at


@pytest.mark.parametrize("role", ROLES)
def test_lists_never_show_other_clients_rows(tenant_a: Tenant, tenant_b: Tenant, role: str) -> None:
    user = getattr(tenant_a, role)
    markers = [
        tenant_b.client.name,
        tenant_b.ticket.subject,
        tenant_b.department.name,
        *tenant_b.customer.emails,
    ]
    checked = 0
    for http, token in ((login(user), False), (api_client(user), True)):
        for route, _name in all_routes():
            if (
                "<" in route
                or route.endswith("logout/")
                or (token and not route.startswith("api/"))
            ):
                continue
            for query in ("", "?status=", f"?client={tenant_b.client.code}&status="):
                r = http.get("/" + route + query)
                if r.status_code in (405, 403):
                    continue
                raw = b"".join(r.streaming_content) if r.streaming else r.content  # type: ignore[attr-defined]
                body = raw.decode()
                for marker in markers:
                    assert marker not in body, (role, route + query, marker)
                checked += 1
    assert checked >= 10


def test_own_objects_are_reachable(tenant_a: Tenant) -> None:
    # The same walk must not pass merely because everything is 404.
    http = login(tenant_a.agent)
    assert http.get(f"/tickets/{tenant_a.ticket.pk}/").status_code == 200
    assert (
        api_client(tenant_a.auditor).get(f"/api/v1/tickets/{tenant_a.ticket.pk}").json()["subject"]
        == tenant_a.ticket.subject
    )
    assert (
        api_client(tenant_a.agent).get(f"/api/v1/customers/{tenant_a.customer.pk}").status_code
        == 200
    )


def test_department_sees_only_escalated_tickets(tenant_a: Tenant) -> None:
    from kefu.tickets import services

    other = services.ticket_create(
        client=tenant_a.client, subject="未升级的工单", body="x", channel="chat"
    )
    http = login(tenant_a.department_user)
    assert http.get(f"/tickets/{tenant_a.ticket.pk}/").status_code == 200
    assert http.get(f"/tickets/{other.pk}/").status_code == 404
    assert "未升级的工单" not in http.get("/tickets/?status=").content.decode()


def test_admin_is_closed_to_client_users(tenant_a: Tenant) -> None:
    for role in ROLES:
        r = login(getattr(tenant_a, role)).get("/admin/tickets/ticket/")
        assert r.status_code == 302 and "/admin/login/" in r["Location"]


PROVIDER_ONLY_SOCKETS = {"chat_agent"}
# The live chat view: supervisors (and provider admins) only; an agent is refused too.
SUPERVISOR_ONLY_SOCKETS = {"chat_live", "chat_client_live"}


def all_socket_routes() -> list[tuple[str, str]]:
    return [(str(p.pattern), p.name or str(p.pattern)) for p in websocket_urlpatterns]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_other_clients_sockets_are_refused_everywhere(
    tenant_a: Tenant, tenant_b: Tenant, role: str
) -> None:
    """Every WebSocket route: with client B's objects, a user of A is refused; with their
    own, accepted; and no socket of theirs hears a change of B's."""
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async

    from kefu.core.realtime import CLOSE_ANONYMOUS, CLOSE_REFUSED
    from kefu.core.tests.sockets import open_socket, session_cookie
    from kefu.tickets.services import ticket_set_status

    theirs: dict[str, object] = {"ticket": tenant_b.ticket.pk, "customer": tenant_b.customer.pk}
    theirs["client_code"] = tenant_b.client.code
    mine: dict[str, object] = {"ticket": tenant_a.ticket.pk, "customer": tenant_a.customer.pk}
    mine["client_code"] = tenant_a.client.code
    cookie = session_cookie(getattr(tenant_a, role))
    routes = all_socket_routes()

    async def scenario() -> None:
        refused = 0
        listening = []
        for route, name in routes:
            foreign = _fill(route, name, theirs)
            _s, accepted, code = await open_socket(foreign)
            assert not accepted and code == CLOSE_ANONYMOUS, ("anonymous", foreign)
            if "<" in route:
                _s, accepted, code = await open_socket(foreign, cookie)
                assert not accepted and code == CLOSE_REFUSED, (role, foreign)
                refused += 1
            socket, accepted, code = await open_socket(_fill(route, name, mine), cookie)
            if name in SUPERVISOR_ONLY_SOCKETS and role != "supervisor":
                assert not accepted and code == CLOSE_REFUSED, (role, route)
                continue
            if name in PROVIDER_ONLY_SOCKETS and role in ("auditor", "department_user"):
                # The client's own users never answer chats: the console is refused them.
                assert not accepted and code == CLOSE_REFUSED, (role, route)
                continue
            assert accepted, (role, route)
            listening.append(socket)
        assert refused >= 3
        await database_sync_to_async(ticket_set_status)(
            ticket=tenant_b.ticket, actor=tenant_b.agent, status="pending"
        )
        for socket in listening:
            while not await socket.receive_nothing(timeout=0.2):
                event = await socket.receive_json_from()
                assert event.get("ticket") != tenant_b.ticket.pk, (role, event)
            await socket.disconnect()

    async_to_sync(scenario)()
