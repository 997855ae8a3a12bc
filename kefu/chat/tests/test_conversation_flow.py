"""A whole chat over the real sockets: the visitor starts, the agent goes online, is
offered the chat, accepts, both write; the reply counts only once the widget acknowledges
it; a reconnect replays the conversation; the rating is a chat survey."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from kefu.chat.models import Conversation, ConversationStatus
from kefu.chat.services import widget_create
from kefu.conftest import Tenant
from kefu.core.tests.sockets import events, open_socket, session_cookie
from kefu.tickets.models import Delivery, DeliveryStatus, Message

pytestmark = pytest.mark.django_db(transaction=True)

SITE = b"https://www.shop-a.example"


def _widget(t: Tenant) -> Any:
    return widget_create(client=t.client, origins=[SITE.decode()], name="官网")


async def _send(socket: WebsocketCommunicator, **frame: Any) -> None:
    await socket.send_to(text_data=json.dumps(frame, ensure_ascii=False))


async def _until(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    seen = await events(socket, until=kind)
    return seen[-1]


def _start(widget: Any) -> dict[str, Any]:
    return {
        "type": "start",
        "name": "李女士",
        "phone": "13900139000",
        "consent": True,
        "notice_version": widget.notice_version,
    }


def test_customer_and_agent_chat_and_the_reply_counts_when_the_widget_shows_it(
    tenant_a: Tenant,
) -> None:
    widget = _widget(tenant_a)
    cookie = session_cookie(tenant_a.agent)

    async def scenario() -> None:
        customer, accepted, _ = await open_socket(f"/ws/chat/widget/{widget.key}/", origin=SITE)
        assert accepted
        hello = await _until(customer, "hello")
        assert hello["open"] is True and "notice" in hello
        await _send(customer, **_start(widget))
        started = await _until(customer, "started")
        conversation_id, token = started["conversation"], started["token"]

        agent, accepted, _ = await open_socket("/ws/chat/agent/", cookie)
        assert accepted
        await _until(agent, "state")
        await _send(agent, type="presence", state="online")
        offer = await _until(agent, "offer")
        assert offer["conversation"] == conversation_id

        await _send(customer, type="message", cid="c-1", text="你好，我的订单还没发货")
        ack = await _until(customer, "ack")
        assert ack["cid"] == "c-1"
        # Sent again (the widget missed the ack): the same message, not a second one.
        await _send(customer, type="message", cid="c-1", text="你好，我的订单还没发货")
        again = await _until(customer, "ack")
        assert again["id"] == ack["id"]

        await _send(agent, type="accept", conversation=conversation_id)
        opened = await _until(agent, "conversation")
        assert [m["text"] for m in opened["messages"]] == ["你好，我的订单还没发货"]
        status = await _until(customer, "status")
        assert status["status"] == "active" and status["agent"]

        await _send(
            agent, type="message", conversation=conversation_id, cid="a-1", text="您好，我来查一下"
        )
        reply_ack = await _until(agent, "ack")
        shown = await _until(customer, "message")
        while shown["from"] != "agent":
            shown = await _until(customer, "message")
        assert shown["id"] == reply_ack["id"] and shown["text"] == "您好，我来查一下"

        # Staff see personal data masked, as on every page; the customer sees what they wrote.
        await _send(customer, type="message", cid="c-2", text="李女士的电话13912345678")
        heard = await _until(agent, "message")
        while heard["message"].get("cid") != "c-2":  # the agent's own reply came back first
            heard = await _until(agent, "message")
        assert heard["message"]["text"] == "李**的电话139****5678"
        echoed = await _until(customer, "message")
        while echoed.get("cid") != "c-2":
            echoed = await _until(customer, "message")
        assert echoed["text"] == "李女士的电话13912345678"

        delivery = await database_sync_to_async(Delivery.objects.get)(message_id=shown["id"])
        assert delivery.status == DeliveryStatus.QUEUED  # not shown yet as far as kefu knows
        await _send(customer, type="ack", id=shown["id"])

        # The widget drops and comes back: the whole conversation is replayed, once.
        await customer.disconnect()
        back, _, _ = await open_socket(f"/ws/chat/widget/{widget.key}/", origin=SITE)
        await _until(back, "hello")
        await _send(back, type="resume", conversation=conversation_id, token=token)
        resumed = await _until(back, "resumed")
        assert [(m["from"], m["text"]) for m in resumed["messages"]] == [
            ("customer", "你好，我的订单还没发货"),
            ("agent", "您好，我来查一下"),
            ("customer", "李女士的电话13912345678"),
        ]
        await _send(back, type="rate", score=5, comment="很快")
        await _until(back, "rated")
        await back.disconnect()
        await agent.disconnect()

    async_to_sync(scenario)()
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.ENDED
    assert conversation.answered_at is not None
    assert conversation.agent == tenant_a.agent
    delivery = Delivery.objects.get(message__body_text="您好，我来查一下")
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.accepted_at == conversation.answered_at
    assert Message.objects.filter(ticket=conversation.ticket).count() == 3
    assert conversation.survey is not None
    assert (conversation.survey.score, conversation.survey.channel) == (5, "chat")


def test_a_wrong_key_or_a_foreign_origin_is_told_and_closed(tenant_a: Tenant) -> None:
    widget = _widget(tenant_a)

    async def scenario() -> None:
        socket, _, _ = await open_socket("/ws/chat/widget/nope/", origin=SITE)
        error = await socket.receive_json_from()
        assert error["code"] == "bad_key"
        assert (await socket.receive_output())["type"] == "websocket.close"
        socket, _, _ = await open_socket(
            f"/ws/chat/widget/{widget.key}/", origin=b"https://evil.example"
        )
        error = await socket.receive_json_from()
        assert error["code"] == "origin"
        assert (await socket.receive_output())["type"] == "websocket.close"

    async_to_sync(scenario)()
    assert not Conversation.objects.exists()
