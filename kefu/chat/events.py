"""What a chat change tells the sockets that follow it (kefu/chat/consumers.py).

Groups:
- ``conversation_group(id)``: the customer's widget, the agent handling the chat, and any
  supervisor listening in. Unlike the ticket pages' events, a chat event carries the
  message itself: the message *is* what the socket exists to carry, and reading it back
  from the database once per listening socket would double the work on the chat's hot
  path. It crosses only the channel layer (in memory, or the provider's own Redis, which
  keeps nothing on disk for kefu) and the sockets authorised for the conversation.
- ``agent_group(user_id)``: one agent's console pages: offers, chats handed to them.
- ``client_chat_group(client_id)``: the supervisor's live view of one client's chats
  (ids and the kind of change only; the page fetches what it shows).
"""

from __future__ import annotations

from typing import Any

from kefu.core.realtime import group_name, send_on_commit


def conversation_group(conversation_id: int) -> str:
    return group_name("chat", conversation_id)


def agent_group(user_id: int) -> str:
    return group_name("chatagent", user_id)


def client_chat_group(client_id: int) -> str:
    return group_name("chatclient", client_id)


def to_conversation(conversation_id: int, type_: str, **data: Any) -> None:
    send_on_commit(
        [conversation_group(conversation_id)], type_, conversation=conversation_id, **data
    )


def to_agent(user_id: int, type_: str, **data: Any) -> None:
    send_on_commit([agent_group(user_id)], type_, **data)


def chats_changed(client_id: int, conversation_id: int, change: str) -> None:
    send_on_commit(
        [client_chat_group(client_id)], "chats", conversation=conversation_id, change=change
    )
