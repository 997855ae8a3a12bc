"""The chat's two sockets: the customer's widget and the agent's console.

The protocol (frames, fields, acknowledgements, reconnection) is documented in the
README's "Live chat" section; the tests in kefu/chat/tests/ speak it.

``ws/chat/widget/<key>/`` is opened by a page on the client's own website: no kefu login,
no cookie. It is refused unless the key names a widget in service and the page's origin is
one of the widget's. A socket is one visitor: it starts a conversation (or resumes one with
the token it was given), and then can reach only that conversation. Frames are JSON text of
at most ``MAX_FRAME`` bytes; each socket and each address has a message budget.

``ws/chat/agent/`` is the agent's console (a kefu login, kefu's own origin): presence,
offers, the chats the agent handles, and a supervisor listening in.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.accounts import services as accounts
from kefu.accounts.models import PRESENCE_HEARTBEAT, PresenceState, User
from kefu.accounts.roles import Perm
from kefu.chat import acks, routing, services
from kefu.chat.board import delivered_ids
from kefu.chat.events import agent_group, conversation_group
from kefu.chat.frames import FrameQueue, on_database
from kefu.chat.models import ChatWidget, Conversation, EndedBy, token_digest
from kefu.chat.selectors import (
    conversation_for_widget,
    conversation_messages,
    conversation_of_widget_socket,
    conversation_visible,
    customer_names,
    origin_allowed,
    payload_masked,
    service_state,
    widget_by_key,
)
from kefu.core.metrics import websocket_closed, websocket_opened
from kefu.core.realtime import EVENT, GroupConsumer, bind_loop
from kefu.privacy import masking
from kefu.tickets.models import Message

MAX_FRAME = 16 * 1024  # bytes of one text frame
TYPING_EVERY = 1.0  # seconds: typing notices passed on at most this often

# Close codes (4400–4499 are kefu's own; a browser sees them in the close event).
CLOSE_BAD_KEY = 4403
CLOSE_ORIGIN = 4403
CLOSE_FLOOD = 4429
CLOSE_BINARY = 1003
CLOSE_TOO_BIG = 1009

T = TypeVar("T")
BUSY = "服务器繁忙，请稍后重发 / The server is busy: send it again shortly"


@dataclass
class Budget:
    """A token bucket: ``rate`` frames a second, up to ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# Per server process: a visitor opening many sockets from one address shares one budget.
# (Behind several processes each keeps its own; nginx's limit_req covers the whole site.)
ADDRESS_RATE, ADDRESS_BURST = 20.0, 60.0
SOCKET_RATE, SOCKET_BURST = 5.0, 20.0
FLOOD_STRIKES = 20  # refused frames before the socket is closed
_address_budgets: dict[str, Budget] = defaultdict(lambda: Budget(ADDRESS_RATE, ADDRESS_BURST))


def _error(code: str, message: str, **extra: Any) -> str:
    return json.dumps(
        {"type": "error", "code": code, "message": message, **extra}, ensure_ascii=False
    )


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(m) for m in exc.messages)
    return str(exc)


class WidgetConsumer(AsyncWebsocketConsumer):
    """``ws/chat/widget/<key>/``: one visitor's chat (see the module's text)."""

    widget: ChatWidget | None = None
    conversation_id: int | None = None
    held: list[dict[str, Any]] | None = None  # events kept back while a chat is joined

    async def connect(self) -> None:
        bind_loop(asyncio.get_running_loop())
        self.frames = FrameQueue()
        self.strikes = 0
        self.budget = Budget(SOCKET_RATE, SOCKET_BURST)
        self.last_typing = 0.0
        self.give_up: asyncio.TimerHandle | None = None
        client = self.scope.get("client") or ("", 0)
        self.address = str(client[0] or "")
        key = self.scope["url_route"]["kwargs"]["key"]
        origin = dict(self.scope.get("headers") or []).get(b"origin", b"").decode("latin-1")
        widget = await database_sync_to_async(widget_by_key)(key)
        # Accepted first so that the page is told why (a refused handshake says nothing).
        await self.accept()
        websocket_opened(self)
        if widget is None:
            await self._refuse(
                "bad_key",
                "在线客服窗口密钥无效或已停用 / Unknown or revoked widget key",
                CLOSE_BAD_KEY,
            )
            return
        if not origin_allowed(widget, origin):
            await self._refuse(
                "origin",
                "此网站不允许使用该在线客服窗口 / This site may not use this chat widget",
                CLOSE_ORIGIN,
            )
            return
        self.widget = widget
        state = await database_sync_to_async(service_state)(widget)
        await self.send(
            json.dumps(
                {
                    "type": "hello",
                    "client": widget.client.name,
                    "notice": {"version": widget.notice_version, "text": widget.privacy_notice},
                    **state.as_json(),
                },
                ensure_ascii=False,
            )
        )

    async def _refuse(self, code: str, message: str, close: int) -> None:
        await self.send(_error(code, message))
        await self.close(code=close)

    async def disconnect(self, code: int) -> None:
        websocket_closed(self)
        self.frames.drop()
        if self.give_up is not None:
            self.give_up.cancel()
        if self.conversation_id is not None:
            await self.channel_layer.group_discard(
                conversation_group(self.conversation_id), self.channel_name
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.widget is None:
            return
        if bytes_data is not None:
            await self._refuse("binary", "只接受 JSON 文本帧 / Only JSON text frames", CLOSE_BINARY)
            return
        text = text_data or ""
        if len(text.encode()) > MAX_FRAME:
            await self._refuse("too_large", "消息帧过大 / Frame too large", CLOSE_TOO_BIG)
            return
        if not (self.budget.take() and _address_budgets[self.address].take()):
            self.strikes += 1
            if self.strikes >= FLOOD_STRIKES:
                await self._refuse("rate_limited", "发送过于频繁 / Too many messages", CLOSE_FLOOD)
            else:
                await self.send(
                    _error("rate_limited", "发送过于频繁，请稍候 / Too many messages: slow down")
                )
            return
        try:
            content = json.loads(text)
        except ValueError:
            await self.send(_error("bad_json", "不是有效的 JSON / Not valid JSON"))
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send(_error("bad_frame", "帧需要 type 字段 / A frame needs a type"))
            return
        handler = self.handlers.get(content["type"])
        if handler is None:
            await self.send(
                _error("unknown_type", f"未知的消息类型 / Unknown type: {content['type'][:40]}")
            )
            return
        if not self.frames.put(partial(self._handle, handler, content)):
            await self.send(_error("busy", BUSY, ref=content.get("cid")))

    async def _handle(
        self,
        handler: Callable[[WidgetConsumer, dict[str, Any]], Awaitable[None]],
        content: dict[str, Any],
    ) -> None:
        """One frame, in its turn (kefu/chat/frames.py)."""
        if content["type"] not in ("start", "resume", "leave") and self.conversation_id is None:
            await self.send(
                _error("no_conversation", "请先开始会话 / Start or resume a chat first")
            )
            return
        joining = content["type"] in ("start", "resume")
        if joining:
            # The chat's events wait until "started" / "resumed" has gone out, as they did
            # when the frame held up the consumer.
            self.held = []
        try:
            await handler(self, content)
        except (ValidationError, PermissionDenied) as exc:
            code = getattr(exc, "code", None) or "invalid"
            await self.send(_error(str(code), _message_of(exc), ref=content.get("cid")))
        finally:
            if joining:
                held, self.held = self.held or [], None
                for message in held:
                    await self.kefu_event(message)

    async def _join(self, conversation: Conversation) -> None:
        self.conversation_id = conversation.pk
        await self.channel_layer.group_add(conversation_group(conversation.pk), self.channel_name)

    async def on_start(self, content: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            await self.send(_error("started", "会话已开始 / The chat has started"))
            return
        assert self.widget is not None
        started = await database_sync_to_async(services.conversation_start)(
            widget=self.widget,
            name=content.get("name"),
            phone=content.get("phone") or "",
            consent=content.get("consent"),
            notice_version=content.get("notice_version"),
            language=str(content.get("language") or "zh-hans"),
            page_url=content.get("page") or "",
        )
        conversation = started.conversation
        await self._join(conversation)
        assert conversation.ticket is not None
        await self.send_json(
            {
                "type": "started",
                "conversation": conversation.pk,
                "token": started.token,
                "ticket": conversation.ticket.number,
                "status": conversation.status,
            }
        )
        self._watch_queue(self.widget.max_wait_seconds)

    def _watch_queue(self, seconds: float) -> None:
        """Give up on the queue on time (the periodic job is the fallback)."""
        loop = asyncio.get_running_loop()
        conversation_id = self.conversation_id

        def fire() -> None:
            _background(loop.create_task(_give_up(conversation_id)))

        self.give_up = loop.call_later(seconds + 0.5, fire)

    async def on_resume(self, content: dict[str, Any]) -> None:
        assert self.widget is not None
        token = content.get("token")
        found = await database_sync_to_async(conversation_for_widget)(
            self.widget,
            content.get("conversation"),
            token_digest(token) if isinstance(token, str) else "",
        )
        if found is None:
            await self.send(_error("not_found", "会话不存在或已无法恢复 / No such conversation"))
            return
        if self.conversation_id is not None and self.conversation_id != found.pk:
            await self.send(_error("started", "会话已开始 / The chat has started"))
            return
        await self._join(found)
        messages = await database_sync_to_async(conversation_messages)(found)
        await self.send_json(
            {
                "type": "resumed",
                "conversation": found.pk,
                "status": found.status,
                "agent": str(found.agent) if found.agent else None,
                "ticket": found.ticket.number if found.ticket else None,
                "agent_read": found.agent_read_id,
                "messages": messages,
            }
        )

    async def _call(self, service: Callable[..., T], **kwargs: Any) -> T:
        """``service(conversation=…, **kwargs)`` on a database thread, with this socket's
        conversation read there in the same hop."""
        assert self.conversation_id is not None
        return await on_database(_on_widget_conversation)(self.conversation_id, service, kwargs)

    async def on_message(self, content: dict[str, Any]) -> None:
        written = await self._call(
            services.conversation_customer_message, cid=content.get("cid"), text=content.get("text")
        )
        message = written.message
        await self.send_json(
            {
                "type": "ack",
                "cid": content["cid"],
                "id": message.pk,
                "at": message.created_at.isoformat(),
            }
        )

    async def on_ack(self, content: dict[str, Any]) -> None:
        """Written behind, with the other sockets' (kefu/chat/acks.py): nothing is answered."""
        message_id = content.get("id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise services.ChatError(
                "确认的消息编号无效 / The acknowledged id is not valid", "invalid"
            )
        assert self.conversation_id is not None
        acks.writer.add(self.conversation_id, message_id, timezone.now())

    async def on_read(self, content: dict[str, Any]) -> None:
        await self._call(services.conversation_read, by_customer=True, message_id=content.get("id"))

    async def on_typing(self, content: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        assert self.conversation_id is not None
        await self.channel_layer.group_send(
            conversation_group(self.conversation_id),
            {
                "type": EVENT,
                "event": {"type": "typing", "conversation": self.conversation_id, "by": "customer"},
            },
        )

    async def on_close(self, content: dict[str, Any]) -> None:
        await self._call(services.conversation_end, by=EndedBy.CUSTOMER)
        await self.send_json({"type": "closed", "conversation": self.conversation_id})

    async def on_rate(self, content: dict[str, Any]) -> None:
        await self._call(
            services.conversation_rate,
            score=content.get("score"),
            comment=content.get("comment") or "",
        )
        await self.send_json({"type": "rated", "conversation": self.conversation_id})

    async def on_leave(self, content: dict[str, Any]) -> None:
        assert self.widget is not None
        conversation = await database_sync_to_async(services.conversation_leave_message)(
            widget=self.widget,
            name=content.get("name"),
            phone=content.get("phone") or "",
            email=content.get("email") or "",
            text=content.get("text"),
            consent=content.get("consent"),
            notice_version=content.get("notice_version"),
            cid=content.get("cid"),
        )
        state = await database_sync_to_async(service_state)(self.widget)
        ticket = await database_sync_to_async(
            lambda: conversation.ticket.number if conversation.ticket else None
        )()
        await self.send_json(
            {
                "type": "left",
                "cid": content.get("cid"),
                "ticket": ticket,
                "next_open": state.next_open.isoformat() if state.next_open else None,
            }
        )

    handlers: dict[str, Callable[[WidgetConsumer, dict[str, Any]], Awaitable[None]]] = {
        "start": on_start,
        "resume": on_resume,
        "message": on_message,
        "ack": on_ack,
        "read": on_read,
        "typing": on_typing,
        "close": on_close,
        "rate": on_rate,
        "leave": on_leave,
    }

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(json.dumps(content, ensure_ascii=False))

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == EVENT:
            if self.held is not None:
                self.held.append(message)
                return
            await self.kefu_event(message)
        else:
            await super().dispatch(message)

    async def kefu_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        kind = event["type"]
        if kind == "message":
            await self.send_json({"type": "message", **event["message"]})
        elif kind == "typing" and event.get("by") == "agent":
            await self.send_json({"type": "typing", "by": "agent"})
        elif kind == "read" and event.get("by") == "agent":
            await self.send_json({"type": "read", "id": event["id"]})
        elif kind in ("status", "leave_message"):
            if kind == "leave_message" or event.get("status") != "waiting":
                self._cancel_give_up()
            await self.send_json(event)

    def _cancel_give_up(self) -> None:
        if self.give_up is not None:
            self.give_up.cancel()
            self.give_up = None


def _on_widget_conversation(pk: int, service: Callable[..., T], kwargs: dict[str, Any]) -> T:
    conversation = conversation_of_widget_socket(pk)
    if conversation is None:  # deleted (retention) while the socket was open
        raise services.ChatError("会话不存在 / No such conversation", "not_found")
    return service(conversation=conversation, **kwargs)


_tasks: set[asyncio.Task[None]] = set()  # timers' tasks, referenced until they end


def _background(task: asyncio.Task[None]) -> None:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _give_up(conversation_id: int | None) -> None:
    if conversation_id is None:
        return
    conversation = await database_sync_to_async(
        Conversation.objects.filter(pk=conversation_id).first
    )()
    if conversation is not None:
        await database_sync_to_async(routing.queue_give_up)(conversation=conversation)


def _may_handle_chats(user: User) -> bool:
    return user.is_provider and user.has_kefu_perm(Perm.TICKET_REPLY)


class AgentConsumer(GroupConsumer):
    """``ws/chat/agent/``: one console page of an agent (see the README's protocol)."""

    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        if not _may_handle_chats(user):
            return None
        self.user = user
        self.frames = FrameQueue()
        self.offer_timers: dict[int, asyncio.TimerHandle] = {}
        self.last_typing: dict[int, float] = {}
        self.watching: set[int] = set()
        self.names: dict[int, list[str]] = {}  # per chat: the customer's name, to mask
        own = list(Conversation.objects.open().filter(agent=user).values_list("pk", flat=True))
        self.handling: set[int] = set(own)
        return [agent_group(user.pk), *(conversation_group(pk) for pk in own)]

    async def joined(self) -> None:
        presence = await database_sync_to_async(accounts.presence_socket_opened)(user=self.user)
        self.heartbeat = asyncio.get_running_loop().create_task(self._beat())
        snapshot = await database_sync_to_async(_console_state)(self.user)
        await self.send_json(
            {
                "type": "state",
                "presence": presence.state,
                "max_chats": presence.max_chats,
                **snapshot,
            }
        )

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_HEARTBEAT.total_seconds())
            await database_sync_to_async(accounts.presence_seen)(user=self.user)

    async def disconnect(self, code: int) -> None:
        frames = getattr(self, "frames", None)
        if frames is not None:
            frames.drop()
        beat = getattr(self, "heartbeat", None)
        if beat is not None:
            beat.cancel()
        for timer in getattr(self, "offer_timers", {}).values():
            timer.cancel()
        if self.groups_joined:
            await database_sync_to_async(accounts.presence_socket_closed)(user=self.user)
        await super().disconnect(code)

    async def _join(self, conversation_id: int) -> None:
        group = conversation_group(conversation_id)
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    async def _leave(self, conversation_id: int) -> None:
        group = conversation_group(conversation_id)
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.remove(group)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json(
                {"type": "error", "code": "bad_frame", "message": "A frame needs a type"}
            )
            return
        handler = self.handlers.get(content["type"])
        if handler is None:
            await self.send_json(
                {"type": "error", "code": "unknown_type", "message": "Unknown type"}
            )
            return
        if not self.frames.put(partial(self._handle, handler, content)):
            await self.send_json(
                {
                    "type": "error",
                    "code": "busy",
                    "message": BUSY,
                    "conversation": content.get("conversation"),
                    "ref": content.get("cid"),
                }
            )

    async def _handle(
        self,
        handler: Callable[[AgentConsumer, dict[str, Any]], Awaitable[None]],
        content: dict[str, Any],
    ) -> None:
        """One frame, in its turn (kefu/chat/frames.py)."""
        try:
            await handler(self, content)
        except (ValidationError, PermissionDenied, Conversation.DoesNotExist) as exc:
            code = getattr(exc, "code", None) or "invalid"
            await self.send_json(
                {
                    "type": "error",
                    "code": str(code),
                    "message": _message_of(exc),
                    "conversation": content.get("conversation"),
                    "ref": content.get("cid"),
                }
            )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME:
            await self.send_json(
                {"type": "error", "code": "too_large", "message": "Frame too large"}
            )
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_json", "message": "Not valid JSON"})
            return
        await self.receive_json(content)

    async def _conversation(self, content: dict[str, Any]) -> Conversation:
        return await database_sync_to_async(_visible_conversation)(
            self.user, _conversation_id(content)
        )

    async def on_presence(self, content: dict[str, Any]) -> None:
        presence = await database_sync_to_async(accounts.presence_set)(
            user=self.user, state=content.get("state"), max_chats=content.get("max_chats")
        )
        await self.send_json(
            {"type": "presence", "state": presence.state, "max_chats": presence.max_chats}
        )
        if presence.state == PresenceState.ONLINE:
            await database_sync_to_async(routing.chat_route)()

    async def on_accept(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        await database_sync_to_async(routing.offer_accept)(
            conversation=conversation, agent=self.user
        )
        self._stop_timer(conversation.pk)
        await self._open(conversation.pk, handling=True)

    async def on_decline(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        self._stop_timer(conversation.pk)
        await database_sync_to_async(routing.offer_pass)(conversation=conversation, agent=self.user)

    async def _open(self, conversation_id: int, *, handling: bool) -> None:
        await self._join(conversation_id)
        if handling:
            self.handling.add(conversation_id)
        detail = await database_sync_to_async(_conversation_detail)(conversation_id)
        self.names[conversation_id] = detail.pop("_names")
        await self.send_json({"type": "conversation", **detail})

    async def _open_assigned(self, conversation_id: int) -> None:
        if conversation_id not in self.handling:
            await self._open(conversation_id, handling=True)

    async def on_open(self, content: dict[str, Any]) -> None:
        """A chat the agent handles (after a reload), or one a supervisor listens to
        silently: nobody in the chat is told."""
        conversation = await self._conversation(content)
        if conversation.agent_id == self.user.pk:
            await self._open(conversation.pk, handling=True)
        elif self.user.has_kefu_perm(Perm.CHAT_SUPERVISE):
            self.watching.add(conversation.pk)
            await self._open(conversation.pk, handling=False)
        else:
            raise PermissionDenied("这个会话不由你接待 / You are not the agent of this chat")

    async def on_close_view(self, content: dict[str, Any]) -> None:
        pk = content.get("conversation")
        if isinstance(pk, int) and pk in self.watching:
            self.watching.discard(pk)
            await self._leave(pk)

    async def on_message(self, content: dict[str, Any]) -> None:
        pk = _conversation_id(content)
        message = await on_database(_agent_message)(self.user, pk, content.get("text"))
        await self.send_json(
            {
                "type": "ack",
                "conversation": pk,
                "cid": content.get("cid"),
                "id": message.pk,
                "at": message.created_at.isoformat(),
            }
        )

    async def on_typing(self, content: dict[str, Any]) -> None:
        pk = content.get("conversation")
        if not isinstance(pk, int) or pk not in self.handling:
            return
        now = time.monotonic()
        if now - self.last_typing.get(pk, 0.0) < TYPING_EVERY:
            return
        self.last_typing[pk] = now
        await self.channel_layer.group_send(
            conversation_group(pk),
            {"type": EVENT, "event": {"type": "typing", "conversation": pk, "by": "agent"}},
        )

    async def on_read(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        if conversation.agent_id != self.user.pk:
            return  # a supervisor listening in does not mark the customer's messages read
        await database_sync_to_async(services.conversation_read)(
            conversation=conversation, by_customer=False, message_id=content.get("id")
        )

    async def on_end(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        await database_sync_to_async(services.conversation_end)(
            conversation=conversation, by=EndedBy.AGENT, actor=self.user
        )

    async def on_take_over(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        await database_sync_to_async(routing.conversation_take_over)(
            conversation=conversation, supervisor=self.user
        )
        self.watching.discard(conversation.pk)
        await self._open(conversation.pk, handling=True)

    handlers: dict[str, Callable[[AgentConsumer, dict[str, Any]], Awaitable[None]]] = {
        "presence": on_presence,
        "accept": on_accept,
        "decline": on_decline,
        "open": on_open,
        "close_view": on_close_view,
        "message": on_message,
        "typing": on_typing,
        "read": on_read,
        "end": on_end,
        "take_over": on_take_over,
    }

    def _stop_timer(self, conversation_id: int) -> None:
        timer = self.offer_timers.pop(conversation_id, None)
        if timer is not None:
            timer.cancel()

    def _offer_timer(self, conversation_id: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        user = self.user

        async def expire() -> None:
            self.offer_timers.pop(conversation_id, None)
            conversation = await database_sync_to_async(
                Conversation.objects.filter(pk=conversation_id).first
            )()
            if conversation is not None:
                await database_sync_to_async(routing.offer_pass)(
                    conversation=conversation, agent=user
                )

        self._stop_timer(conversation_id)
        self.offer_timers[conversation_id] = loop.call_later(
            seconds, lambda: _background(loop.create_task(expire()))
        )

    async def relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        kind = event["type"]
        pk = event.get("conversation")
        if kind == "offer" and isinstance(pk, int):
            self._offer_timer(pk, float(event.get("seconds") or 30))
        elif kind == "offer_withdrawn" and isinstance(pk, int):
            self._stop_timer(pk)
        elif kind == "chat_assigned" and isinstance(pk, int):
            # Opened in the frames' turn (a database read: events must not wait for it),
            # unless an accept on this page has opened it by then.
            if not self.frames.put(partial(self._open_assigned, pk)):
                await self._open_assigned(pk)  # backlog full: open it now all the same
            return None
        elif kind in ("chat_transferred", "chat_taken_over") and isinstance(pk, int):
            self.handling.discard(pk)
            await self._leave(pk)
        elif kind == "typing" and event.get("by") == "agent":
            return None  # the agent's own (or a colleague's) typing
        elif kind == "message" and isinstance(pk, int):
            names = self.names.get(pk)
            if names is None:
                names = await database_sync_to_async(_names_of)(pk)
                self.names[pk] = names
            return {**event, "message": payload_masked(event["message"], names)}
        return event


def _names_of(conversation_id: int) -> list[str]:
    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    return customer_names(conversation)


def _conversation_id(content: dict[str, Any]) -> int:
    pk = content.get("conversation")
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        raise ValidationError("conversation id", code="invalid")
    return pk


def _agent_message(user: User, pk: int, text: object) -> Message:
    """An agent's message frame in one hop to the database thread: the visibility check
    and the reply."""
    conversation = _visible_conversation(user, pk)
    return services.conversation_agent_message(conversation=conversation, agent=user, text=text)


def _visible_conversation(user: User, pk: int) -> Conversation:
    found = conversation_visible(user, pk)
    if found is None:
        raise Conversation.DoesNotExist
    return found


def _conversation_detail(conversation_id: int) -> dict[str, Any]:
    conversation = Conversation.objects.select_related(
        "ticket", "customer", "agent", "widget__client"
    ).get(pk=conversation_id)
    return {
        "conversation": conversation.pk,
        "status": conversation.status,
        "client": conversation.widget.client.name,
        "ticket": conversation.ticket.number if conversation.ticket else None,
        "ticket_id": conversation.ticket_id,
        "customer": masking.customer_label(conversation.customer),
        "customer_id": conversation.customer_id,
        "agent": str(conversation.agent) if conversation.agent else None,
        "customer_read": conversation.customer_read_id,
        "delivered": delivered_ids(conversation),
        "messages": conversation_messages(conversation, masked=True),
        # Server-side only (popped before sending): what the console's relay masks with.
        "_names": customer_names(conversation),
    }


def _console_state(user: User) -> dict[str, Any]:
    own = Conversation.objects.open().filter(agent=user).values_list("pk", flat=True)
    offers = Conversation.objects.filter(offered_to=user).values(
        "pk", "client_id", "queued_at", "offer_expires_at"
    )
    return {
        "conversations": list(own),
        "offers": [
            {
                "conversation": o["pk"],
                "client": o["client_id"],
                "queued_at": o["queued_at"].isoformat() if o["queued_at"] else None,
                "expires_at": o["offer_expires_at"].isoformat() if o["offer_expires_at"] else None,
            }
            for o in offers
        ],
    }
