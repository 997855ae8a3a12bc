"""Live ticket pages over WebSockets: what a queue, a ticket page and a customer's follower
hear, who is refused, and that nothing is heard of a change that was rolled back."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from kefu.conftest import Tenant, _user, login
from kefu.core.realtime import CLOSE_ANONYMOUS, CLOSE_REFUSED
from kefu.core.tests.sockets import events, open_socket, session_cookie
from kefu.tickets import services
from kefu.tickets.events import queue_group

pytestmark = pytest.mark.django_db(transaction=True)


def _new_ticket(t: Tenant, subject: str = "新的咨询") -> int:
    return services.ticket_create(
        client=t.client, subject=subject, body="请问怎么开发票？", channel="chat", actor=t.agent
    ).pk


def test_queue_page_hears_new_and_changed_tickets_of_its_clients_only(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    cookie = session_cookie(tenant_a.agent)

    async def scenario() -> None:
        queue, accepted, _code = await open_socket("/ws/queue/", cookie)
        assert accepted
        await database_sync_to_async(_new_ticket)(tenant_b, "乙方的工单")
        created = await database_sync_to_async(_new_ticket)(tenant_a)
        seen = await events(queue, until="ticket.changed")
        assert seen == [{"type": "ticket.changed", "ticket": created, "change": "created"}]
        await database_sync_to_async(services.ticket_set_status)(
            ticket=tenant_a.ticket, actor=tenant_a.agent, status="pending"
        )
        seen = await events(queue, until="ticket.changed")
        assert seen[-1] == {
            "type": "ticket.changed",
            "ticket": tenant_a.ticket.pk,
            "change": "status",
        }
        assert await queue.receive_nothing(timeout=0.2)
        layer = get_channel_layer()
        assert len(layer.groups.get(queue_group(tenant_a.client.pk), {})) == 1
        await queue.disconnect()
        # Closing the page leaves the group: nothing is sent to it any more.
        assert not layer.groups.get(queue_group(tenant_a.client.pk))

    async_to_sync(scenario)()


def test_one_clients_queue_socket(tenant_a: Tenant, tenant_b: Tenant) -> None:
    cookie = session_cookie(tenant_a.supervisor)

    async def scenario() -> None:
        queue, accepted, _code = await open_socket(
            f"/ws/clients/{tenant_a.client.code}/queue/", cookie
        )
        assert accepted
        created = await database_sync_to_async(_new_ticket)(tenant_a)
        assert (await events(queue, until="ticket.changed"))[-1]["ticket"] == created
        await queue.disconnect()
        _s, accepted, code = await open_socket(f"/ws/clients/{tenant_b.client.code}/queue/", cookie)
        assert not accepted and code == CLOSE_REFUSED

    async_to_sync(scenario)()


def test_ticket_page_hears_messages_and_who_else_is_there(tenant_a: Tenant) -> None:
    second = _user("acme_agent2", "agent", display_name="张三")
    second.clients.add(tenant_a.client)
    first_cookie, second_cookie = session_cookie(tenant_a.agent), session_cookie(second)
    path = f"/ws/tickets/{tenant_a.ticket.pk}/"

    async def scenario() -> None:
        mine, accepted, _code = await open_socket(path, first_cookie)
        assert accepted
        theirs, accepted, _code = await open_socket(path, second_cookie)
        assert accepted
        joined = (await events(mine, until="presence"))[-1]
        assert (joined["event"], joined["user"], joined["name"]) == ("join", second.pk, "张三")
        # The newcomer learns who was already there.
        here = (await events(theirs, until="presence"))[-1]
        assert (here["event"], here["user"]) == ("here", tenant_a.agent.pk)

        await theirs.send_json_to({"type": "typing"})
        typing = (await events(mine, until="presence"))[-1]
        assert (typing["event"], typing["name"]) == ("typing", "张三")
        await theirs.send_json_to({"type": "present"})  # still here, every 30 s
        still = (await events(mine, until="presence"))[-1]
        assert (still["event"], still["user"]) == ("here", second.pk)

        message = await database_sync_to_async(services.ticket_reply)(
            ticket=tenant_a.ticket, actor=second, body="您好，师傅明天上门。"
        )
        heard = (await events(mine, until="ticket.message"))[-1]
        assert heard == {
            "type": "ticket.message",
            "ticket": tenant_a.ticket.pk,
            "message": message.pk,
            "direction": "out",
            "author": second.pk,
        }
        await theirs.disconnect()
        left = (await events(mine, until="presence"))[-1]
        assert (left["event"], left["user"]) == ("leave", second.pk)
        await mine.disconnect()

    async_to_sync(scenario)()


def test_rolled_back_change_is_never_announced(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.agent)

    def change_then_fail() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.ticket_set_status(
                ticket=tenant_a.ticket, actor=tenant_a.agent, status="pending"
            )
            raise RuntimeError("the rest of the work failed")

    async def scenario() -> None:
        page, accepted, _code = await open_socket(f"/ws/tickets/{tenant_a.ticket.pk}/", cookie)
        queue, accepted_queue, _code = await open_socket("/ws/queue/", cookie)
        assert accepted and accepted_queue
        await database_sync_to_async(change_then_fail)()
        assert await page.receive_nothing(timeout=0.3)
        assert await queue.receive_nothing(timeout=0.1)
        await page.disconnect()
        await queue.disconnect()

    async_to_sync(scenario)()


def test_customer_socket_hears_the_customers_tickets(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.agent)

    def reply_from_customer() -> None:
        services.ticket_add_customer_message(ticket=tenant_a.ticket, body="还没修好")

    async def scenario() -> None:
        socket, accepted, _code = await open_socket(
            f"/ws/customers/{tenant_a.customer.pk}/", cookie
        )
        assert accepted
        await database_sync_to_async(reply_from_customer)()
        heard = (await events(socket, until="ticket.changed"))[-1]
        assert heard == {
            "type": "ticket.changed",
            "ticket": tenant_a.ticket.pk,
            "change": "message",
        }
        await socket.disconnect()

    async_to_sync(scenario)()


def test_department_queue_hears_only_tickets_escalated_to_it(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.department_user)

    async def scenario() -> None:
        queue, accepted, _code = await open_socket("/ws/queue/", cookie)
        assert accepted
        await database_sync_to_async(_new_ticket)(tenant_a, "未升级的工单")
        assert await queue.receive_nothing(timeout=0.3)
        await database_sync_to_async(services.ticket_set_status)(
            ticket=tenant_a.ticket, actor=tenant_a.agent, status="pending"
        )
        assert (await events(queue, until="ticket.changed"))[-1]["ticket"] == tenant_a.ticket.pk
        await queue.disconnect()

    async_to_sync(scenario)()


def test_anonymous_and_foreign_origin_sockets_are_refused(tenant_a: Tenant) -> None:
    cookie = session_cookie(tenant_a.agent)

    async def scenario() -> None:
        for path in ("/ws/queue/", f"/ws/tickets/{tenant_a.ticket.pk}/", "/ws/notifications/"):
            _s, accepted, code = await open_socket(path)
            assert not accepted and code == CLOSE_ANONYMOUS, path
        # Another site's page cannot open a socket with the user's cookie.
        _s, accepted, _code = await open_socket("/ws/queue/", cookie, origin=b"http://evil.example")
        assert not accepted

    async_to_sync(scenario)()


def test_logout_closes_the_sessions_sockets(tenant_a: Tenant) -> None:
    http = login(tenant_a.agent)
    cookie = f"sessionid={http.cookies['sessionid'].value}".encode()

    async def scenario() -> None:
        queue, accepted, _code = await open_socket("/ws/queue/", cookie)
        assert accepted
        await database_sync_to_async(http.post)("/logout/")
        assert await queue.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_ANONYMOUS,
        }
        _s, accepted, _code = await open_socket("/ws/queue/", cookie)
        assert not accepted

    async_to_sync(scenario)()


def test_a_live_page_fetches_only_the_part_that_changed(tenant_a: Tenant, tenant_b: Tenant) -> None:
    http = login(tenant_a.agent)
    url = f"/tickets/{tenant_a.ticket.pk}/"
    messages = http.get(url, headers={"HX-Request": "true", "HX-Target": "ticket-messages"})
    body = messages.content.decode()
    assert (
        "家里的空调从昨天开始不制冷了" in body and "<html" not in body and "reply-form" not in body
    )
    head = http.get(url, headers={"HX-Request": "true", "HX-Target": "ticket-head"}).content
    assert 'id="ticket-status"' in head.decode() and b"<html" not in head
    other = f"/tickets/{tenant_b.ticket.pk}/"
    assert http.get(other, headers={"HX-Target": "ticket-messages"}).status_code == 404
