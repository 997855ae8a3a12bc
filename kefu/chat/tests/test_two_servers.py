"""Two ``kefu serve`` processes on one PostgreSQL database, their chat events shared through
Redis (``REDIS_URL``): the customer's widget talks to the first, the agent's console to the
second, and the chat goes as it does on one server — offer, accept, messages both ways, and
the reply counts once the widget acknowledges it."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from kefu.chat.models import Conversation, ConversationStatus
from kefu.chat.services import widget_create
from kefu.conftest import Tenant
from kefu.core.tests.servers import serve, shared_env
from kefu.core.tests.sockets import REDIS_URL, redis_answers, session_cookie
from kefu.tickets.models import Delivery, DeliveryStatus, Direction, Message

pytestmark = [
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="two server processes share one database: they need PostgreSQL (set "
        "DATABASE_URL=postgres://…)",
    ),
    pytest.mark.skipif(
        not redis_answers(),
        reason=f"no Redis at {REDIS_URL}: the servers share events through it "
        "(start Redis or set KEFU_TEST_REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

SITE = "https://www.shop-a.example"


def _send(socket: ClientConnection, **frame: Any) -> None:
    socket.send(json.dumps(frame, ensure_ascii=False))


def _until(socket: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    """The first frame of type ``kind`` (with the fields in ``match``); frames before it
    are skipped. Each frame must come within 10 seconds."""
    while True:
        frame = json.loads(socket.recv(timeout=10))
        assert frame.get("type") != "error", frame
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


def _delivery_status(message_id: int) -> str:
    """The reply's delivery state, once the server has handled the widget's
    acknowledgement (it sends nothing back for it), or as it stands after 10 seconds."""
    deadline = time.monotonic() + 10
    while True:
        status = Delivery.objects.get(message_id=message_id).status
        if status != DeliveryStatus.QUEUED or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.1)


def test_customer_on_one_server_and_agent_on_the_other_chat_and_the_reply_counts(
    tenant_a: Tenant,
) -> None:
    widget = widget_create(client=tenant_a.client, origins=[SITE], name="官网")
    cookie = session_cookie(tenant_a.agent).decode()
    env = shared_env()
    with (
        serve(env) as first,
        serve(env) as second,
        connect(
            f"ws://127.0.0.1:{second}/ws/chat/agent/",
            additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{second}"},
            open_timeout=10,
        ) as agent,
        connect(
            f"ws://127.0.0.1:{first}/ws/chat/widget/{widget.key}/",
            additional_headers={"Origin": SITE},
            open_timeout=10,
        ) as customer,
    ):
        _until(agent, "state")
        _send(agent, type="presence", state="online", max_chats=2)
        _until(agent, "presence", state="online")
        assert _until(customer, "hello")["open"] is True

        _send(
            customer,
            type="start",
            name="李女士",
            consent=True,
            notice_version=widget.notice_version,
        )
        conversation = _until(customer, "started")["conversation"]
        # Routed by the first server (on the customer's start), offered on the second.
        _until(agent, "offer", conversation=conversation)
        _send(agent, type="accept", conversation=conversation)
        _until(agent, "conversation", conversation=conversation)
        assert _until(customer, "status")["status"] == "active"

        _send(customer, type="message", cid="c-1", text="你好，我的快递到哪了？")
        asked = _until(customer, "ack", cid="c-1")
        heard = _until(agent, "message", conversation=conversation)["message"]
        assert (heard["id"], heard["from"], heard["text"]) == (
            asked["id"],
            "customer",
            "你好，我的快递到哪了？",
        )

        _send(agent, type="message", conversation=conversation, cid="a-1", text="您好，已发出")
        replied = _until(agent, "ack", cid="a-1")
        shown = _until(customer, "message", **{"from": "agent"})
        assert (shown["id"], shown["text"]) == (replied["id"], "您好，已发出")
        _send(customer, type="ack", id=shown["id"])
        status = _delivery_status(shown["id"])

    assert status == DeliveryStatus.SENT  # accepted: the customer's window showed it
    chat = Conversation.objects.get(pk=conversation)
    assert chat.status == ConversationStatus.ACTIVE
    assert chat.agent == tenant_a.agent
    assert chat.answered_at == Delivery.objects.get(message_id=shown["id"]).accepted_at
    assert list(
        Message.objects.filter(ticket=chat.ticket)
        .order_by("pk")
        .values_list("direction", "body_text")
    ) == [(Direction.INBOUND, "你好，我的快递到哪了？"), (Direction.OUTBOUND, "您好，已发出")]
