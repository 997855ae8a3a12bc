"""The chat channel's delivery adapter (kefu.tickets.channels).

A reply on a chat ticket is pushed to the conversation's sockets when its transaction
commits; it is *accepted* only when the customer's widget acknowledges that it received it
(``{"type": "ack", "id": …}``, :func:`kefu.chat.services.conversation_ack`), at that
instant: a reply the customer's window never showed is not a response. A widget that is
closed acknowledges when it comes back and replays what it has not seen. The periodic
delivery sweep is the fallback (no task row per reply): ``confirm_within`` after the reply
(and within the sweep's period), :meth:`ChatAdapter.send` pushes it again and leaves it
queued (retried with back-off) until a widget acknowledges it; after the last
attempt it is shown as failed, and an acknowledgement after that still counts it, late."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.chat import events
from kefu.chat.models import Conversation
from kefu.chat.selectors import conversation_of_ticket, message_payload
from kefu.tickets.channels import Accepted, DeliveryFailed
from kefu.tickets.models import Channel, Delivery, Ticket


def _conversation(ticket_id: int) -> Conversation | None:
    return conversation_of_ticket(ticket_id)


_NO_CHAT = gettext_lazy(
    "这张工单没有在线会话，无法通过在线客服回复：请改用电话或邮件联系客户 / "
    "This ticket has no chat conversation: contact the customer by phone or email"
)


def _push(delivery: Delivery) -> None:
    """Tell the conversation's sockets of the reply (on commit, inside a transaction)."""
    # The reply's transport check has just read it (kefu.tickets.services.ticket_reply).
    checked = delivery.ticket.__dict__.pop("_chat_conversation", None)
    conversation = checked if checked is not None else _conversation(delivery.ticket_id)
    if conversation is None:
        raise DeliveryFailed(str(_NO_CHAT), retryable=False)
    events.to_conversation(conversation.pk, "message", message=message_payload(delivery.message))


class ChatAdapter:
    channel = Channel.CHAT
    reply_form: type[forms.Form] | None = None
    resendable = True
    confirm_within = timedelta(seconds=30)

    def transport_problem(self, *, ticket: Ticket) -> str | None:
        conversation = _conversation(ticket.pk)
        if conversation is None:
            return str(_NO_CHAT)
        ticket.__dict__["_chat_conversation"] = conversation  # for this reply's push only
        if conversation.widget.revoked_at is not None:
            return _(
                "该在线客服窗口已停用：请在管理后台重新启用或改用其他渠道 / "
                "This chat widget is revoked: enable it again in the admin or use another channel"
            )
        return None

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None:
        _push(delivery)
        return None

    def send(self, *, delivery: Delivery) -> Accepted:
        """Push the message again and wait for the widget's acknowledgement."""
        _push(delivery)
        raise DeliveryFailed(
            _(
                "客户的聊天窗口尚未确认收到（客户可能已离开页面） / "
                "The customer's chat window has not confirmed it (they may have left the page)"
            ),
            retryable=True,
        )
