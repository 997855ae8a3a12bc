"""Pictures and files in a chat: what the customer sends from the widget, and which of the
conversation's files the widget may show back.

A file the customer sends is a customer message of the chat's ticket with the file
attached, written through the tickets intake like a chat text (deduplicated by the
widget's client id for the message, so a file sent again after a dropped connection is
the same message) and checked like every other upload
(:func:`kefu.tickets.attachments.attachments_check`: its type sniffed from its first
bytes, the size limit from settings)."""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.chat import events
from kefu.chat.models import Conversation
from kefu.chat.selectors import message_payload
from kefu.chat.services import ChatError, Written
from kefu.tickets.attachments import attachments_check
from kefu.tickets.intake import Incoming, ticket_intake
from kefu.tickets.models import Attachment, Channel, Direction

# The same rule as a chat text's client id (kefu.chat.services).
_CID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _problem(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages)


def conversation_customer_file(
    *, conversation: Conversation, cid: object, file: File, at: datetime | None = None
) -> Written:
    """The customer sent ``file`` (a picture or a document) in the widget: a message with
    the file attached, told to the conversation like a text. Sent again with the same
    ``cid`` it gives back the first message and stores nothing.

    Raises :class:`~kefu.chat.services.ChatError`: code ``invalid`` for a missing or bad
    client id, ``file`` for a file refused by the upload check (empty, too large, a
    program or script, markup, a type not allowed), ``not_found`` for a conversation
    without a ticket. Nothing is stored for a refused file."""
    if not isinstance(cid, str) or not _CID.match(cid):
        raise ChatError(
            _("消息缺少有效的客户端编号 / The message needs a client id (cid)"), "invalid"
        )
    if conversation.ticket is None:
        raise ChatError(_("会话不存在 / No such conversation"), "not_found")
    try:
        attachments_check([file])
    except ValidationError as exc:
        raise ChatError(_problem(exc), "file") from exc
    at = at or timezone.now()
    with transaction.atomic():
        result = ticket_intake(
            client=conversation.ticket.client,
            channel=Channel.CHAT,
            ticket=conversation.ticket,
            message=Incoming(
                text="",
                attachments=[file],
                author_name=conversation.customer.name if conversation.customer else "",
                at=at,
                channel_ids={"conversation": str(conversation.pk), "cid": cid},
            ),
        )
        assert result.message is not None
        if result.duplicate:
            return Written(result.message, True)
        Conversation.objects.filter(pk=conversation.pk, first_customer_at__isnull=True).update(
            first_customer_at=at
        )
        events.to_conversation(conversation.pk, "message", message=message_payload(result.message))
        if conversation.agent_id is not None:
            events.to_agent(conversation.agent_id, "chat_message", conversation=conversation.pk)
    return Written(result.message, False)


def conversation_attachment(conversation: Conversation, attachment_id: int) -> Attachment | None:
    """A file of one of the conversation's public messages (the customer's or the agent's
    replies; never an internal note's), or ``None``."""
    if conversation.ticket_id is None:
        return None
    return Attachment.objects.filter(
        pk=attachment_id,
        ticket_id=conversation.ticket_id,
        message__direction__in=(Direction.INBOUND, Direction.OUTBOUND),
    ).first()
