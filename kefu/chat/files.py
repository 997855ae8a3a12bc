"""Pictures and files in a chat: what the customer sends from the widget, and which of the
conversation's files the widget may show back.

A file the customer sends is a customer message of the chat's ticket with the file
attached, written through the tickets intake like a chat text (deduplicated by the
widget's client id for the message, so a file sent again after a dropped connection is
the same message) and checked like every other upload
(:func:`kefu.tickets.attachments.attachments_check`: its type sniffed from its first
bytes, the size limit from settings)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils.translation import gettext as _

from kefu.chat.models import Conversation
from kefu.chat.services import ChatError, Written, cid_check, conversation_customer_input
from kefu.tickets.attachments import attachments_check
from kefu.tickets.models import Attachment, Direction


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
    cid_check(cid)
    if conversation.ticket is None:
        raise ChatError(_("会话不存在 / No such conversation"), "not_found")
    try:
        attachments_check([file])
    except ValidationError as exc:
        raise ChatError(_problem(exc), "file") from exc
    return conversation_customer_input(
        conversation=conversation, cid=cid, attachments=[file], at=at
    )


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
