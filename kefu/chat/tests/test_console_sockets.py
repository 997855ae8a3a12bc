"""The sockets behind the console and the live view, over the real stack: the supervisor's
socket hears its clients' chats and agents and nothing of another client's, and is refused
to agents; the agent's console learns when the customer's widget has shown a reply."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from kefu.accounts.models import PresenceState
from kefu.accounts.services import presence_set
from kefu.chat import frames
from kefu.chat.consumers import AgentConsumer
from kefu.chat.models import Conversation
from kefu.chat.tests.test_console_pages import SITE, chat_waiting, widget_for
from kefu.conftest import Tenant
from kefu.core.realtime import CLOSE_REFUSED
from kefu.core.tests.sockets import events, open_socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def _send(socket: WebsocketCommunicator, **frame: Any) -> None:
    await socket.send_to(text_data=json.dumps(frame, ensure_ascii=False))


async def _until(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    return (await events(socket, until=kind))[-1]


def test_the_live_socket_is_refused_to_agents_and_to_other_clients(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent = session_cookie(tenant_a.agent)
    supervisor = session_cookie(tenant_a.supervisor)

    async def scenario() -> None:
        for path in ("/ws/chat/live/", f"/ws/chat/clients/{tenant_a.client.code}/live/"):
            _s, accepted, code = await open_socket(path, agent)
            assert not accepted and code == CLOSE_REFUSED, path
        _s, accepted, code = await open_socket(
            f"/ws/chat/clients/{tenant_b.client.code}/live/", supervisor
        )
        assert not accepted and code == CLOSE_REFUSED
        socket, accepted, _code = await open_socket(
            f"/ws/chat/clients/{tenant_a.client.code}/live/", supervisor
        )
        assert accepted
        await socket.disconnect()

    async_to_sync(scenario)()


def test_the_live_socket_hears_its_clients_chats_and_agents_only(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    widget_a, widget_b = widget_for(tenant_a), widget_for(tenant_b)
    cookie = session_cookie(tenant_a.supervisor)

    async def scenario() -> None:
        socket, accepted, _ = await open_socket("/ws/chat/live/", cookie)
        assert accepted
        # Another client's chat and agent first: what arrives first must be A's.
        await database_sync_to_async(chat_waiting)(tenant_b, "钱先生", widget_b)
        await database_sync_to_async(presence_set)(user=tenant_b.agent, state=PresenceState.AWAY)
        mine = await database_sync_to_async(chat_waiting)(tenant_a, "赵先生", widget_a)
        event = await socket.receive_json_from(timeout=3)
        assert event == {"type": "chats", "conversation": mine.pk, "change": "started"}
        await database_sync_to_async(presence_set)(user=tenant_a.agent, state=PresenceState.AWAY)
        event = await socket.receive_json_from(timeout=3)
        assert event == {"type": "presence", "user": tenant_a.agent.pk, "state": "away"}
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_the_console_learns_when_the_widget_showed_a_reply(tenant_a: Tenant) -> None:
    widget = widget_for(tenant_a)
    cookie = session_cookie(tenant_a.agent)

    async def scenario() -> None:
        customer, accepted, _ = await open_socket(
            f"/ws/chat/widget/{widget.key}/", origin=SITE.encode()
        )
        assert accepted
        await _until(customer, "hello")
        await _send(
            customer,
            type="start",
            name="李女士",
            consent=True,
            notice_version=widget.notice_version,
        )
        conversation_id = (await _until(customer, "started"))["conversation"]
        agent, accepted, _ = await open_socket("/ws/chat/agent/", cookie)
        assert accepted
        await _until(agent, "state")
        await _send(agent, type="presence", state="online")
        await _until(agent, "offer")
        await _send(agent, type="accept", conversation=conversation_id)
        await _until(agent, "conversation")
        await _send(agent, type="message", conversation=conversation_id, cid="a-1", text="您好")
        reply_id = (await _until(agent, "ack"))["id"]
        shown = await _until(customer, "message")
        while shown["from"] != "agent":
            shown = await _until(customer, "message")
        await _send(customer, type="ack", id=shown["id"])
        delivered = await _until(agent, "delivered")
        assert (delivered["conversation"], delivered["id"]) == (conversation_id, reply_id)
        await _send(customer, type="read", id=reply_id)
        read = await _until(agent, "read")
        assert (read["by"], read["id"]) == ("customer", reply_id)

        # A console opened later (a reload) sees the reply delivered and read.
        await agent.disconnect()
        again, _, _ = await open_socket("/ws/chat/agent/", cookie)
        await _until(again, "state")
        await _send(again, type="open", conversation=conversation_id)
        frame = await _until(again, "conversation")
        assert frame["delivered"] == [reply_id] and frame["customer_read"] == reply_id
        await again.disconnect()
        await customer.disconnect()

    async_to_sync(scenario)()
    assert Conversation.objects.get().answered_at is not None


def test_a_console_whose_frames_wait_still_hears_the_customer_and_stays_open(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the agent's own frames wait (the database is behind), the customer's messages
    still reach the console, what is sent past the backlog is refused as ``busy`` instead
    of the socket being closed, and the waiting frames are then handled in order."""
    widget = widget_for(tenant_a)
    cookie = session_cookie(tenant_a.agent)
    monkeypatch.setattr(frames, "BACKLOG", 2)
    release = asyncio.Event()
    handled: list[str] = []

    async def slow_typing(consumer: AgentConsumer, content: dict[str, Any]) -> None:
        await release.wait()  # as a frame that waits for the database
        handled.append(content["cid"])

    monkeypatch.setitem(AgentConsumer.handlers, "typing", slow_typing)

    async def scenario() -> None:
        customer, accepted, _ = await open_socket(
            f"/ws/chat/widget/{widget.key}/", origin=SITE.encode()
        )
        await _until(customer, "hello")
        await _send(
            customer,
            type="start",
            name="李女士",
            consent=True,
            notice_version=widget.notice_version,
        )
        conversation_id = (await _until(customer, "started"))["conversation"]
        agent, accepted, _ = await open_socket("/ws/chat/agent/", cookie)
        assert accepted
        await _until(agent, "state")
        await _send(agent, type="presence", state="online")
        await _until(agent, "offer")
        await _send(agent, type="accept", conversation=conversation_id)
        await _until(agent, "conversation")

        # The first runs and waits, two wait behind it, the last is refused.
        await _send(agent, type="typing", conversation=conversation_id, cid="t0")
        await asyncio.sleep(0.2)
        for n in range(1, 4):
            await _send(agent, type="typing", conversation=conversation_id, cid=f"t{n}")
        refused = await _until(agent, "error")
        assert (refused["code"], refused["ref"]) == ("busy", "t3")
        await _send(customer, type="message", cid="c-1", text="还在吗？")
        heard = await _until(agent, "message")
        assert heard["message"]["text"] == "还在吗？"  # while the agent's frames wait

        release.set()
        await _send(agent, type="no-such-frame")  # the socket is still open
        assert (await _until(agent, "error"))["code"] == "unknown_type"
        await asyncio.sleep(0.2)
        assert handled == ["t0", "t1", "t2"]
        await agent.disconnect()
        await customer.disconnect()

    async_to_sync(scenario)()
