"""Bad input and abuse on the widget's socket: each gets a clear error frame or a closed
socket, and nothing is stored for the refused part."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator

from kefu.chat import consumers
from kefu.chat.models import ChatWidget, Conversation
from kefu.chat.services import widget_create, widget_revoke
from kefu.conftest import Tenant
from kefu.core.tests.sockets import events, open_socket
from kefu.sla.tests.conftest import sh
from kefu.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SITE = b"https://www.shop-a.example"


@pytest.fixture
def widget(tenant_a: Tenant) -> ChatWidget:
    return widget_create(client=tenant_a.client, origins=[SITE.decode()])


async def _open(widget: ChatWidget) -> WebsocketCommunicator:
    socket, accepted, _ = await open_socket(f"/ws/chat/widget/{widget.key}/", origin=SITE)
    assert accepted
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket


async def _send(socket: WebsocketCommunicator, **frame: Any) -> None:
    await socket.send_to(text_data=json.dumps(frame, ensure_ascii=False))


async def _closed_with(socket: WebsocketCommunicator) -> int:
    output = await socket.receive_output(timeout=3)
    assert output["type"] == "websocket.close", output
    return int(output.get("code", 1000))


def _start(widget: ChatWidget, **extra: Any) -> dict[str, Any]:
    return {
        "type": "start",
        "name": "访客",
        "consent": True,
        "notice_version": widget.notice_version,
        **extra,
    }


def test_malformed_frames_get_error_frames_and_store_nothing(widget: ChatWidget) -> None:
    async def scenario() -> None:
        socket = await _open(widget)
        await socket.send_to(text_data="{not json")
        assert (await socket.receive_json_from())["code"] == "bad_json"
        await _send(socket, text="no type")
        assert (await socket.receive_json_from())["code"] == "bad_frame"
        await _send(socket, type="sudo")
        assert (await socket.receive_json_from())["code"] == "unknown_type"
        await _send(socket, type="message", cid="x1", text="before any start")
        assert (await socket.receive_json_from())["code"] == "no_conversation"
        await _send(socket, **_start(widget, consent=False))
        assert (await socket.receive_json_from())["code"] == "consent"
        await _send(socket, **_start(widget, notice_version="0"))
        assert (await socket.receive_json_from())["code"] == "consent"
        await _send(socket, **_start(widget))
        await events(socket, until="started")
        await _send(socket, type="message", cid="has spaces", text="hi")
        assert (await socket.receive_json_from())["code"] == "invalid"
        await _send(socket, type="message", cid="c1", text="x" * 4001)
        assert (await socket.receive_json_from())["code"] == "too_long"
        await _send(socket, type="message", cid="c2", text="   ")
        assert (await socket.receive_json_from())["code"] == "invalid"
        await _send(socket, type="rate", score=9)
        assert (await socket.receive_json_from())["code"] == "invalid"
        await socket.disconnect()

    async_to_sync(scenario)()
    conversation = Conversation.objects.get()
    assert conversation.consent_at is not None
    assert not Message.objects.filter(ticket=conversation.ticket).exists()


def test_an_oversized_or_binary_frame_closes_the_socket(widget: ChatWidget) -> None:
    async def scenario() -> None:
        socket = await _open(widget)
        await socket.send_to(text_data=json.dumps({"type": "typing", "pad": "x" * 20000}))
        assert (await socket.receive_json_from())["code"] == "too_large"
        assert await _closed_with(socket) == consumers.CLOSE_TOO_BIG
        socket = await _open(widget)
        await socket.send_to(bytes_data=b"\x00\x01")
        assert (await socket.receive_json_from())["code"] == "binary"
        assert await _closed_with(socket) == consumers.CLOSE_BINARY

    async_to_sync(scenario)()


def test_another_conversation_cannot_be_read_with_a_guessed_id_or_token(
    widget: ChatWidget, tenant_b: Tenant
) -> None:
    other_widget = widget_create(client=tenant_b.client, origins=[SITE.decode()])

    async def scenario() -> None:
        mine = await _open(widget)
        await _send(mine, **_start(widget))
        started = (await events(mine, until="started"))[-1]
        await _send(mine, type="message", cid="m1", text="我的地址是……")
        await events(mine, until="ack")

        stranger = await _open(widget)
        await _send(stranger, type="resume", conversation=started["conversation"], token="guess")
        assert (await stranger.receive_json_from())["code"] == "not_found"
        await _send(stranger, type="resume", conversation=started["conversation"], token=None)
        assert (await stranger.receive_json_from())["code"] == "not_found"
        await _send(stranger, type="message", cid="m2", text="hi")
        assert (await stranger.receive_json_from())["code"] == "no_conversation"
        # The right token through another client's widget finds nothing either.
        other = await _open(other_widget)
        await _send(
            other, type="resume", conversation=started["conversation"], token=started["token"]
        )
        assert (await other.receive_json_from())["code"] == "not_found"
        for socket in (mine, stranger, other):
            await socket.disconnect()

    async_to_sync(scenario)()


def test_a_revoked_key_is_refused(widget: ChatWidget) -> None:
    widget_revoke(widget=widget)

    async def scenario() -> None:
        socket, _, _ = await open_socket(f"/ws/chat/widget/{widget.key}/", origin=SITE)
        assert (await socket.receive_json_from())["code"] == "bad_key"
        assert await _closed_with(socket) == consumers.CLOSE_BAD_KEY

    async_to_sync(scenario)()


def test_a_flood_is_refused_per_socket_then_closed_and_nothing_refused_is_stored(
    widget: ChatWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "SOCKET_RATE", 0.001)
    monkeypatch.setattr(consumers, "SOCKET_BURST", 3.0)
    monkeypatch.setattr(consumers, "FLOOD_STRIKES", 5)

    async def scenario() -> None:
        socket = await _open(widget)
        await _send(socket, **_start(widget))
        await events(socket, until="started")
        codes = []
        for n in range(8):
            await _send(socket, type="message", cid=f"f{n}", text=f"第{n}条")
            frame = await socket.receive_json_from()
            while frame["type"] == "message":  # the echo of an accepted message
                frame = await socket.receive_json_from()
            codes.append(frame.get("code") or frame["type"])
            if len(codes) >= 2 + 5:
                break
        assert codes[:2] == ["ack", "ack"]
        assert set(codes[2:]) == {"rate_limited"}
        assert await _closed_with(socket) == consumers.CLOSE_FLOOD

    async_to_sync(scenario)()
    chat = Conversation.objects.get()
    stored = Message.objects.filter(ticket=chat.ticket).values_list("body_text", flat=True)
    assert sorted(stored) == ["第0条", "第1条"]


def test_one_address_shares_a_budget_across_sockets(
    widget: ChatWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "ADDRESS_RATE", 0.001)
    monkeypatch.setattr(consumers, "ADDRESS_BURST", 4.0)
    monkeypatch.setattr(
        consumers,
        "_address_budgets",
        consumers.defaultdict(lambda: consumers.Budget(consumers.ADDRESS_RATE, 4.0)),
    )

    async def scenario() -> None:
        sockets = [await _open(widget) for _ in range(3)]
        codes = []
        for socket in sockets:
            for _ in range(3):
                await _send(socket, type="sudo")
                codes.append((await socket.receive_json_from())["code"])
        # Four frames from the address pass (and are judged: an unknown type), the other
        # five are refused whichever socket they came on.
        assert codes == ["unknown_type"] * 3 + ["unknown_type"] + ["rate_limited"] * 5
        for socket in sockets:
            await socket.disconnect()

    async_to_sync(scenario)()


def test_outside_service_hours_the_visitor_leaves_a_message_and_gets_a_ticket(
    sla_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    widget = widget_create(client=sla_tenant.client, origins=[SITE.decode()])
    saturday_night = sh(2026, 12, 5, 22, 0)
    monkeypatch.setattr("django.utils.timezone.now", lambda: saturday_night)

    async def scenario() -> None:
        socket, _, _ = await open_socket(f"/ws/chat/widget/{widget.key}/", origin=SITE)
        hello = await socket.receive_json_from()
        assert hello["open"] is False
        assert hello["next_open"].startswith("2026-12-07T09:00:00")
        await _send(socket, **_start(widget))
        assert (await socket.receive_json_from())["code"] == "closed"
        leave = {
            "type": "leave",
            "name": "赵先生",
            "phone": "13700137000",
            "text": "周一请回电，发票抬头有误",
            "cid": "l1",
            "consent": True,
            "notice_version": widget.notice_version,
        }
        await _send(socket, **leave)
        left = await socket.receive_json_from()
        await _send(socket, **leave)  # sent twice: one ticket
        again = await socket.receive_json_from()
        assert left["type"] == "left" and left["ticket"] == again["ticket"]
        assert left["next_open"].startswith("2026-12-07T09:00:00")
        await socket.disconnect()

    async_to_sync(scenario)()
    ticket = Ticket.objects.get(channel="chat")
    assert ticket.messages.get().body_text == "周一请回电，发票抬头有误"
    assert Conversation.objects.get().status == "message"
