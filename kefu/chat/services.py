"""Every write of the live chat: widgets, a conversation's life, and what its sockets send.

A conversation's messages are its ticket's messages, written through the tickets intake
(the customer's, deduplicated by the widget's client id for the message) and the ticket
reply (the agent's, delivered by :class:`kefu.chat.delivery.ChatAdapter`). Routing (who is
offered a waiting chat) is :mod:`kefu.chat.routing`.

Every function here takes ``at`` (an aware instant, now by default) so that tests and the
KPI fixtures can place events in time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Perm
from kefu.chat import events, routing
from kefu.chat.models import (
    ChatWidget,
    Conversation,
    ConversationStatus,
    EndedBy,
    new_secret,
    token_digest,
)
from kefu.chat.selectors import message_payload, service_hours_open
from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.core.prepared import PreparedQuery
from kefu.surveys.models import Survey, SurveyOrigin
from kefu.surveys.services import survey_followup
from kefu.tickets import services as tickets
from kefu.tickets.channels import Accepted
from kefu.tickets.delivery import delivery_accept
from kefu.tickets.intake import Incoming, ticket_intake
from kefu.tickets.models import Channel, Delivery, Direction, Kind, Message, Status, Ticket

MAX_TEXT = 4000  # characters in one chat message
MAX_NAME = 100
_CID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DEFAULT_NOTICE = (
    "为向您提供在线客服服务，我们将收集您的称呼、联系电话（选填）及聊天内容，"
    "仅用于处理您的咨询，并按合同约定的期限保存后删除。/ "
    "To serve you we collect your name, phone number (optional) and this conversation, "
    "use them only to handle your request, and delete them after the agreed retention period."
)


class ChatError(ValidationError):
    """A refused chat action: ``code`` goes to the widget's error frame."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


def origin_clean(value: str) -> str:
    """``value`` as a widget origin (``scheme://host[:port]``, lower case); ValidationError
    for anything else (a path, a query, another scheme)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            _("网站来源应为 https://主机名[:端口]：%(v)s / An origin is https://host[:port]: %(v)s")
            % {"v": value}
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValidationError(
            _("网站来源只含协议、主机和端口：%(v)s / An origin has no path: %(v)s") % {"v": value}
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


@transaction.atomic
def widget_create(
    *,
    client: Client,
    origins: Sequence[str],
    name: str = "",
    privacy_notice: str = "",
    team: Team | None = None,
    actor: User | None = None,
) -> ChatWidget:
    """A new chat widget for ``client``'s website(s); raises ValidationError for a bad
    origin or a team of another client."""
    cleaned = sorted({origin_clean(o) for o in origins})
    if not cleaned:
        raise ValidationError(_("至少需要一个网站来源 / At least one origin is needed"))
    if team is not None and team.client_id != client.pk:
        raise ValidationError(_("坐席组不属于该甲方 / The team belongs to another client"))
    widget = ChatWidget.objects.create(
        client=client,
        name=name.strip()[:100],
        origins=cleaned,
        team=team,
        privacy_notice=privacy_notice.strip() or DEFAULT_NOTICE,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=widget, data={"origins": cleaned})
    return widget


@transaction.atomic
def widget_revoke(*, widget: ChatWidget, actor: User | None = None) -> ChatWidget:
    if widget.revoked_at is None:
        widget.revoked_at = timezone.now()
        widget.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=widget, field="revoked_at")
    return widget


@dataclass(frozen=True)
class Started:
    conversation: Conversation
    token: str  # the widget keeps it to resume; only its digest is stored


def _text(value: object, *, field: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        if not required and value is None:
            return ""
        raise ChatError(_("%(f)s 应为文字 / %(f)s must be text") % {"f": field}, "invalid")
    value = value.strip()
    if required and not value:
        raise ChatError(_("%(f)s 不能为空 / %(f)s is required") % {"f": field}, "invalid")
    if len(value) > limit:
        raise ChatError(
            _("%(f)s 过长（最多 %(n)s 字） / %(f)s is too long (at most %(n)s)")
            % {"f": field, "n": limit},
            "too_long",
        )
    return value


def _customer_data(name: str, phone: str) -> tickets.CustomerData:
    # Typed by the visitor: kept, but unverified (it finds nobody until confirmed).
    return tickets.CustomerData(name=name, phone=phone, verified=False)


def _subject(name: str) -> str:
    return _("在线客服会话 · %(name)s") % {"name": name}


@transaction.atomic
def conversation_start(
    *,
    widget: ChatWidget,
    name: object,
    phone: object = "",
    consent: object = False,
    notice_version: object = "",
    language: str = "zh-hans",
    page_url: object = "",
    at: datetime | None = None,
) -> Started:
    """The visitor filled in the pre-chat form and accepted the privacy notice: the chat
    and its ticket are created, and the chat joins the queue when the service is open (the
    widget offers to leave a message otherwise; see :func:`conversation_leave_message`).

    Refused (ChatError, nothing stored) without consent to the widget's current notice."""
    at = at or timezone.now()
    name_ = _text(name, field=_("称呼"), limit=MAX_NAME)
    phone_ = _text(phone, field=_("电话"), limit=30, required=False)
    if phone_ and not re.fullmatch(r"\+?[0-9 -]{5,30}", phone_):
        raise ChatError(_("电话号码格式不正确 / The phone number is not valid"), "invalid")
    if consent is not True or notice_version != widget.notice_version:
        raise ChatError(
            _("请先阅读并同意隐私告知 / Please read and accept the privacy notice"), "consent"
        )
    is_open, _next = service_hours_open(widget.client_id, at)
    if not is_open:
        raise ChatError(
            _("现在不在服务时间，请留言 / The service is closed now: please leave a message"),
            "closed",
        )
    token = new_secret()
    opened = ticket_intake(
        client=widget.client,
        channel=Channel.CHAT,
        message=Incoming(text="", author_name=name_, at=at),
        subject=_subject(name_),
        customer=_customer_data(name_, phone_),
    )
    conversation = Conversation.objects.create(
        client_id=widget.client_id,
        widget=widget,
        ticket=opened.ticket,
        customer=opened.ticket.customer,
        token_hash=token_digest(token),
        language="en" if language.startswith("en") else "zh-hans",
        page_url=str(page_url)[:500] if isinstance(page_url, str) else "",
        consent_at=at,
        consent_version=widget.notice_version,
        started_at=at,
        queued_at=at,
        team_id=widget.team_id,
    )
    events.chats_changed(widget.client_id, conversation.pk, "started")
    transaction.on_commit(lambda: routing.chat_route(conversation_id=conversation.pk))
    return Started(conversation, token)


@transaction.atomic
def conversation_leave_message(
    *,
    widget: ChatWidget,
    name: object,
    phone: object = "",
    email: object = "",
    text: object,
    consent: object = False,
    notice_version: object = "",
    cid: object = "",
    at: datetime | None = None,
) -> Conversation:
    """Outside service hours (or after waiting past the widget's limit) the visitor leaves
    a message: a ticket in the queue, answered when the service opens. Deduplicated by
    ``cid`` like any chat message."""
    at = at or timezone.now()
    name_ = _text(name, field=_("称呼"), limit=MAX_NAME)
    phone_ = _text(phone, field=_("电话"), limit=30, required=False)
    email_ = _text(email, field=_("邮箱"), limit=200, required=False)
    body = _text(text, field=_("留言"), limit=MAX_TEXT)
    cid_ = cid_check(cid)
    if consent is not True or notice_version != widget.notice_version:
        raise ChatError(
            _("请先阅读并同意隐私告知 / Please read and accept the privacy notice"), "consent"
        )
    if not phone_ and not email_:
        raise ChatError(
            _("请留下电话或邮箱，以便我们回复您 / Leave a phone number or an email to be answered"),
            "invalid",
        )
    data = tickets.CustomerData(name=name_, phone=phone_, email=email_, verified=False)
    opened = ticket_intake(
        client=widget.client,
        channel=Channel.CHAT,
        message=Incoming(
            text=body, author_name=name_, at=at, channel_ids={"widget": str(widget.pk), "cid": cid_}
        ),
        subject=_("在线留言 · %(name)s") % {"name": name_},
        customer=data,
    )
    existing = Conversation.objects.filter(ticket=opened.ticket).first()
    if existing is not None:
        return existing
    conversation = Conversation.objects.create(
        client_id=widget.client_id,
        widget=widget,
        ticket=opened.ticket,
        customer=opened.ticket.customer,
        token_hash=token_digest(new_secret()),
        status=ConversationStatus.LEFT_MESSAGE,
        consent_at=at,
        consent_version=widget.notice_version,
        started_at=at,
        first_customer_at=at,
        ended_at=at,
        ended_by=EndedBy.CUSTOMER,
    )
    events.chats_changed(widget.client_id, conversation.pk, "message_left")
    return conversation


def cid_check(value: object) -> str:
    """The widget's client id for a message (letters, digits, ``_.:-``; 1–64), or
    ChatError."""
    if not isinstance(value, str) or not _CID.match(value):
        raise ChatError(
            _("消息缺少有效的客户端编号 / The message needs a client id (cid)"), "invalid"
        )
    return value


@dataclass(frozen=True)
class Written:
    message: Message
    duplicate: bool


def conversation_customer_message(
    *, conversation: Conversation, cid: object, text: object, at: datetime | None = None
) -> Written:
    """The customer wrote in the widget. A message the widget sends again (it did not see
    the acknowledgement) is recognised by ``cid`` and gives back the first one."""
    body = _text(text, field=_("消息"), limit=MAX_TEXT)
    return conversation_customer_input(conversation=conversation, cid=cid, text=body, at=at)


def conversation_customer_input(
    *,
    conversation: Conversation,
    cid: object,
    text: str = "",
    attachments: Sequence[File] = (),
    at: datetime | None = None,
) -> Written:
    """What the customer sent (checked text, or files already checked), written once per
    ``cid`` through the tickets intake and told to the chat's sockets."""
    cid_ = cid_check(cid)
    at = at or timezone.now()
    if conversation.ticket is None:
        raise ChatError(_("会话不存在 / No such conversation"), "not_found")
    with transaction.atomic():
        result = ticket_intake(
            client=conversation.ticket.client,
            channel=Channel.CHAT,
            ticket=conversation.ticket,
            message=Incoming(
                text=text,
                attachments=attachments,
                author_name=conversation.customer.name if conversation.customer else "",
                at=at,
                channel_ids={"conversation": str(conversation.pk), "cid": cid_},
            ),
        )
        assert result.message is not None
        if result.duplicate:
            return Written(result.message, True)
        if conversation.first_customer_at is None:  # as read for this frame
            Conversation.objects.filter(pk=conversation.pk, first_customer_at__isnull=True).update(
                first_customer_at=at
            )
        events.to_conversation(conversation.pk, "message", message=message_payload(result.message))
        if conversation.agent_id is not None:
            events.to_agent(conversation.agent_id, "chat_message", conversation=conversation.pk)
    return Written(result.message, False)


def _require_agent(conversation: Conversation, user: User) -> None:
    if conversation.agent_id != user.pk:
        raise PermissionDenied(_("这个会话不由你接待 / You are not the agent of this chat"))


def conversation_agent_message(
    *,
    conversation: Conversation,
    agent: User,
    text: object,
    at: datetime | None = None,
) -> Message:
    """The agent handling the chat wrote to the customer: a reply on the chat's ticket,
    accepted when the customer's widget acknowledges it."""
    _require_agent(conversation, agent)
    body = _text(text, field=_("消息"), limit=MAX_TEXT)
    assert conversation.ticket is not None
    return tickets.ticket_reply(ticket=conversation.ticket, actor=agent, body=body, at=at)


def conversation_ack(
    *, conversation: Conversation, message_id: object, at: datetime | None = None
) -> bool:
    """The customer's widget shows the agent message ``message_id``: its delivery is
    accepted now (the response clocks are met at this instant), and the first such
    message answers the chat. Returns whether this acknowledgement accepted a delivery
    (False for one acknowledged before, or not an agent message of this chat)."""
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ChatError(_("确认的消息编号无效 / The acknowledged id is not valid"), "invalid")
    at = at or timezone.now()
    if conversation.ticket_id is None:
        return False
    if not 0 < message_id < 2**63:  # no such id (and a database takes none larger)
        return False
    with transaction.atomic():  # (a savepoint when acknowledgements are written together)
        delivery = _OUTBOUND_DELIVERY.first(message_id, conversation.ticket_id)
        if delivery is None:
            return False
        accepted = delivery_accept(
            delivery=delivery, accepted=Accepted(at=at, external_id=f"chat:{conversation.pk}")
        )
        if accepted and delivery.is_reply and conversation.answered_at is None:
            Conversation.objects.filter(pk=conversation.pk, answered_at__isnull=True).update(
                answered_at=at, answered_by_id=delivery.message.author_id
            )
        if accepted:
            # The agent's console shows the message delivered (the widget ignores this).
            events.to_conversation(conversation.pk, "delivered", id=message_id)
    return accepted


_OUTBOUND_DELIVERY = PreparedQuery(
    lambda message_id, ticket_id: Delivery.objects.filter(
        message_id=message_id, ticket_id=ticket_id, message__direction=Direction.OUTBOUND
    ).select_related("ticket", "message")[:1]
)


def conversation_read(
    *, conversation: Conversation, by_customer: bool, message_id: object
) -> int | None:
    """The customer (or the agent) has read up to ``message_id``; returns the new mark, or
    ``None`` when it did not move forward."""
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id <= 0:
        raise ChatError(_("已读的消息编号无效 / The read id is not valid"), "invalid")
    field = "customer_read_id" if by_customer else "agent_read_id"
    with transaction.atomic():
        moved = Conversation.objects.filter(
            Q(**{f"{field}__lt": message_id}), pk=conversation.pk
        ).update(**{field: message_id})
        if not moved:
            return None
        events.to_conversation(
            conversation.pk, "read", by="customer" if by_customer else "agent", id=message_id
        )
    return message_id


@transaction.atomic
def conversation_end(
    *, conversation: Conversation, by: str, actor: User | None = None, at: datetime | None = None
) -> Conversation:
    """The chat is over (the customer closed it, or the agent ended it).
    The ticket stays as it is; the agent's wrap-up settles it."""
    at = at or timezone.now()
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status not in (ConversationStatus.WAITING, ConversationStatus.ACTIVE):
        return conversation
    if (
        by == EndedBy.AGENT
        and actor is not None
        and conversation.agent_id != actor.pk
        and not actor.has_kefu_perm(Perm.CHAT_SUPERVISE)
    ):
        raise PermissionDenied(_("这个会话不由你接待 / You are not the agent of this chat"))
    offered = conversation.offered_to_id
    conversation.status = ConversationStatus.ENDED
    conversation.ended_at = at
    conversation.ended_by = by
    conversation.offered_to = None
    conversation.offer_expires_at = None
    conversation.save(
        update_fields=["status", "ended_at", "ended_by", "offered_to", "offer_expires_at"]
    )
    events.to_conversation(conversation.pk, "status", status="ended", by=by)
    if offered is not None:
        events.to_agent(offered, "offer_withdrawn", conversation=conversation.pk)
    if conversation.agent_id is not None:
        events.to_agent(conversation.agent_id, "chat_ended", conversation=conversation.pk, by=by)
    events.chats_changed(conversation.client_id, conversation.pk, "ended")
    if conversation.agent_id is not None:
        # A slot is free: the next waiting chat may go to this agent.
        transaction.on_commit(lambda: routing.chat_route(client_id=conversation.client_id))
    return conversation


@transaction.atomic
def conversation_rate(
    *, conversation: Conversation, score: object, comment: object = "", at: datetime | None = None
) -> Survey:
    """The customer rated the chat (1–5 and a comment): a survey answer with channel chat.
    Rating again changes the answer; the chat ends if it had not."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ChatError(_("评分应为 1–5 / The score is 1 to 5"), "invalid")
    note = _text(comment, field=_("评价"), limit=1000, required=False)
    at = at or timezone.now()
    if conversation.is_open:
        conversation = conversation_end(conversation=conversation, by=EndedBy.CUSTOMER, at=at)
    # Locked and read again: the survey dispatcher may have recorded the offered rating.
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    survey = conversation.survey
    if survey is None:
        survey = Survey.objects.create(
            client_id=conversation.client_id,
            ticket_id=conversation.ticket_id,
            channel=Channel.CHAT,
            origin=SurveyOrigin.RESOLUTION,
            sent_at=at,
            answered_at=at,
            score=score,
            comment=note,
        )
        Conversation.objects.filter(pk=conversation.pk).update(survey=survey)
        conversation.survey = survey
    else:
        survey.score, survey.comment, survey.answered_at = score, note, at
        survey.save(update_fields=["score", "comment", "answered_at"])
    survey_followup(survey=survey)
    if conversation.agent_id is not None:
        events.to_agent(
            conversation.agent_id, "chat_rated", conversation=conversation.pk, score=score
        )
    return survey


@transaction.atomic
def conversation_wrap_up(
    *,
    conversation: Conversation,
    actor: User,
    kind: str,
    tags: Sequence[str] = (),
    resolve: bool = True,
    note: str = "",
) -> Ticket:
    """The agent's wrap-up after the chat: the ticket's kind and tags, an optional internal
    note, and resolved unless the matter goes on as a ticket."""
    if conversation.agent_id != actor.pk and not actor.has_kefu_perm(Perm.CHAT_SUPERVISE):
        raise PermissionDenied(_("这个会话不由你接待 / You are not the agent of this chat"))
    if kind not in Kind.values:
        raise ValidationError({"kind": _("请选择工单类型 / Choose the kind")})
    if conversation.is_open:
        conversation = conversation_end(conversation=conversation, by=EndedBy.AGENT, actor=actor)
    ticket = conversation.ticket
    assert ticket is not None
    tickets.ticket_update(ticket=ticket, actor=actor, kind=kind, tags=list(tags))
    if note.strip():
        tickets.ticket_add_note(ticket=ticket, actor=actor, body=note.strip())
    if resolve and ticket.status not in (Status.RESOLVED, Status.CLOSED):
        tickets.ticket_set_status(ticket=ticket, actor=actor, status=Status.RESOLVED)
    Conversation.objects.filter(pk=conversation.pk).update(wrapped_up_at=timezone.now())
    return ticket
