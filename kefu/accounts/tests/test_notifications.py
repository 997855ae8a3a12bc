"""The bell: in-app notifications beside the assignment, escalation and SLA mails, pushed
live to the user's pages, read and marked read on their page."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from kefu.accounts.models import Notification
from kefu.accounts.services import notification_create
from kefu.conftest import Tenant, login
from kefu.core.tests.sockets import events, open_socket, session_cookie
from kefu.tickets import services, tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_assignment_rings_the_bell_live_and_the_page_marks_it_read(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.agent)
    ticket = tenant_a.ticket

    def assign_and_run_the_task() -> None:
        services.ticket_assign(ticket=ticket, actor=tenant_a.supervisor, assignee=tenant_a.agent)
        tasks.notify_user.call(tenant_a.agent.pk, "assigned", ticket.pk)

    async def scenario() -> None:
        bell, accepted, _code = await open_socket("/ws/notifications/", cookie)
        assert accepted
        assert await bell.receive_json_from() == {"type": "unread", "count": 0}
        await database_sync_to_async(assign_and_run_the_task)()
        rung = (await events(bell, until="notification"))[-1]
        assert rung["kind"] == "assigned" and rung["unread"] == 1
        assert ticket.number in rung["text"] and "工单已分派给你" in rung["text"]
        assert rung["url"] == f"/tickets/{ticket.pk}/"
        await bell.disconnect()

    async_to_sync(scenario)()

    http = login(tenant_a.agent)
    page = http.get("/account/notifications/").content.decode()
    assert ticket.number in page and "未读" in page
    note = Notification.objects.get(user=tenant_a.agent)
    r = http.post("/account/notifications/", {"id": note.pk, "next": note.url})
    assert r.status_code == 302 and r["Location"] == note.url
    note.refresh_from_db()
    assert note.read_at is not None
    assert "未读" not in http.get("/account/notifications/").content.decode()


def test_mark_all_read_reaches_the_users_other_pages(tenant_a: Tenant) -> None:
    for _ in range(2):
        notification_create(
            user=tenant_a.agent, client_id=tenant_a.client.pk, kind="assigned", text="x", url="/"
        )
    cookie = session_cookie(tenant_a.agent)

    async def scenario() -> None:
        bell, accepted, _code = await open_socket("/ws/notifications/", cookie)
        assert accepted
        assert await bell.receive_json_from() == {"type": "unread", "count": 2}
        http = await database_sync_to_async(login)(tenant_a.agent)
        await database_sync_to_async(http.post)("/account/notifications/")
        assert (await events(bell, until="notification.read"))[-1]["unread"] == 0
        await bell.disconnect()

    async_to_sync(scenario)()


def test_escalation_answer_notifies_the_assignee_in_the_app(tenant_a: Tenant) -> None:
    ticket = tenant_a.ticket
    services.ticket_assign(ticket=ticket, actor=tenant_a.supervisor, assignee=tenant_a.agent)
    services.escalation_answer(
        escalation=tenant_a.escalation, actor=tenant_a.department_user, answer="已安排"
    )
    tasks.notify_user.call(tenant_a.agent.pk, "escalation_answered", ticket.pk)
    note = Notification.objects.get(user=tenant_a.agent)
    assert note.kind == "escalation_answered" and "甲方部门已答复" in note.text


def test_notifications_stay_with_their_user_and_client(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # Nobody is notified about a client they do not serve.
    assert (
        notification_create(
            user=tenant_a.agent, client_id=tenant_b.client.pk, kind="assigned", text="B", url="/"
        )
        is None
    )
    note = notification_create(
        user=tenant_b.agent, client_id=tenant_b.client.pk, kind="assigned", text="乙方通知", url="/"
    )
    assert note is not None
    http = login(tenant_a.agent)
    assert "乙方通知" not in http.get("/account/notifications/").content.decode()
    http.post("/account/notifications/", {"id": note.pk})
    note.refresh_from_db()
    assert note.read_at is None
