"""The supervisor's live chat view socket: ``ws/chat/live/`` (every client the user serves)
or ``ws/chat/clients/<code>/live/`` (one).

It only listens: ``chats`` events of the clients' chat groups (a chat started, offered,
accepted, passed on, transferred, taken over, ended; ids and the kind of change only) and
``presence`` events of the agents who serve those clients. The page fetches its table
again on each (kefu/static/kefu/chat-live.js). Supervisors and provider admins only: an
agent or a client's user is refused, as is a client the user does not serve."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from kefu.accounts.models import User
from kefu.accounts.services import presence_group
from kefu.chat.board import may_supervise_chats, serves_any
from kefu.chat.events import client_chat_group
from kefu.contracts.selectors import clients_visible_to
from kefu.core.realtime import GroupConsumer


class SupervisorConsumer(GroupConsumer):
    def authorise(self, user: User, route: dict[str, Any]) -> list[str] | None:
        if not may_supervise_chats(user):
            return None
        code = route.get("code")
        clients = clients_visible_to(user)
        if code is not None:
            clients = clients.filter(code=code)
        ids = list(clients.values_list("pk", flat=True))
        if code is not None and not ids:
            return None
        # Every client (a provider admin on the whole view): any agent's presence counts.
        self.client_ids: list[int] | None = (
            None if code is None and user.visible_client_ids() is None else ids
        )
        return [*(client_chat_group(pk) for pk in ids), presence_group()]

    async def relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if event["type"] == "presence":
            # The presence group is everyone's: pass on only the agents of these clients.
            if not await database_sync_to_async(serves_any)(event.get("user"), self.client_ids):
                return None
            return {"type": "presence", "user": event["user"], "state": event.get("state")}
        if event["type"] == "chats":
            return {
                "type": "chats",
                "conversation": event.get("conversation"),
                "change": event.get("change"),
            }
        return None
