"""API input and output schemas, one per operation (``TicketCreate``, ``TicketRead`` …)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from kefu.tickets.validation import MAX_BODY, MAX_TAGS

ChannelName = Literal["email", "chat", "phone", "wechat", "portal", "api"]
KindName = Literal["inquiry", "request", "fault", "complaint", "suggestion"]
PriorityName = Literal["low", "normal", "high", "urgent"]
StatusName = Literal["new", "open", "pending", "resolved", "closed"]


NUL_REFUSED = "文本不能包含空字符 / text may not contain the NUL character (U+0000)"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_REFUSED)
    return value


# Text the API takes in: any string but one with U+0000, which PostgreSQL cannot store
# (Django's form fields refuse it on the pages the same way). Not for ninja's Form[...]
# parameters, which lose their default inside a nested Annotated: those check NUL_REFUSED's
# condition themselves.
Text = Annotated[str, AfterValidator(_no_nul)]

# The sending system's own ids of one message (e.g. {"msg_id": "…"}): a retried request with
# the same ids gets back what the first one made (kefu.tickets.intake).
ChannelIds = Annotated[
    dict[
        Annotated[Text, Field(min_length=1, max_length=64)], Annotated[Text, Field(max_length=200)]
    ],
    Field(max_length=8),
]
_CHANNEL_IDS = (
    "the sending system's ids of this customer message (never the person's): a request "
    "repeated with the same ids returns what the first one made, with status 200"
)


class ReadSchema(BaseModel):
    """A response body, validated from the plain data kefu.tickets.serialize builds: a
    pydantic model without ninja's per-field attribute resolver (``DjangoGetter``), which
    only ORM objects need."""

    model_config = ConfigDict(from_attributes=True)


class InputSchema(Schema):
    """A request body: a JSON object. (A plain ninja Schema reads attributes off any value,
    so a string or a list would pass as an object with every field defaulted.)"""

    @model_validator(mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        # ninja's own validator has already wrapped the input in a DjangoGetter.
        raw = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(raw, dict | Schema):
            raise ValueError("expected a JSON object")
        return value


class CustomerIn(InputSchema):
    """Who wrote in. The identifiers given (phone, email, WeChat ids, portal account,
    external id) are taken as vouched for by the integration, so they find the customer
    again on any channel (see kefu.tickets.services.CustomerData)."""

    name: Text = Field("", max_length=200)
    phone: Text = Field("", max_length=40)
    email: Text = Field("", max_length=254)
    external_id: Text = Field("", max_length=100)
    wechat_openid: Text = Field("", max_length=128)
    wechat_unionid: Text = Field("", max_length=128)
    portal_account: Text = Field("", max_length=128)


class CustomerCreate(CustomerIn):
    client: Text = Field(..., description="client code 甲方代码", max_length=32)


class CustomerRead(ReadSchema):
    id: int
    client: str
    name: str
    phones: list[str]
    emails: list[str]
    external_ids: dict[str, str]
    created_at: datetime
    merged_into: int | None = Field(
        None,
        description="set when this record was merged into another customer (its tickets "
        "moved there)",
    )


class CustomerMerge(InputSchema):
    into: int = Field(
        ..., ge=1, le=2**62, description="the customer kept; this one is merged into it"
    )
    reason: Text = Field("", max_length=500, description="why; recorded in the audit log")


class TicketCreate(InputSchema):
    client: Text = Field(..., description="client code 甲方代码", max_length=32)
    subject: Text = Field(..., min_length=1, max_length=300)
    body: Text = Field("", max_length=MAX_BODY, description="the customer's words")
    channel: ChannelName = "api"
    kind: KindName = "inquiry"
    priority: PriorityName = "normal"
    customer_id: int | None = None
    customer: CustomerIn | None = None
    tags: list[Text] = Field(default_factory=list, max_length=MAX_TAGS)
    external_id: Text = Field("", max_length=100)
    channel_ids: ChannelIds = Field(default_factory=dict, description=_CHANNEL_IDS)


class TicketUpdate(InputSchema):
    subject: Text | None = Field(None, min_length=1, max_length=300)
    kind: KindName | None = None
    priority: PriorityName | None = None
    status: StatusName | None = None
    assignee: Text | None = Field(None, description="username; empty string unassigns")
    tags: list[Text] | None = Field(None, max_length=MAX_TAGS)


class MessageCreate(InputSchema):
    direction: Literal["in", "out", "note"] = "out"
    body: Text = Field(..., min_length=1, max_length=MAX_BODY)
    new_status: StatusName | None = None
    channel_data: dict[str, bool | int | str] = Field(
        default_factory=dict,
        description="a reply's fields of the ticket's channel, e.g. on a phone ticket the "
        'call logged: {"reached": true, "talk_seconds": 95}',
    )
    channel_ids: ChannelIds = Field(
        default_factory=dict, description=_CHANNEL_IDS + " (direction in only)"
    )


class AttachmentRead(ReadSchema):
    id: int
    filename: str
    content_type: str
    size: int


class DeliveryRead(ReadSchema):
    """How a reply travelled: queued, sending, sent (accepted by the channel's transport at
    ``accepted_at``), delivered, or failed with the transport's ``reason``."""

    status: str
    attempts: int
    accepted_at: datetime | None
    delivered_at: datetime | None
    reason: str


class MessageRead(ReadSchema):
    id: int
    direction: str
    author: str
    body_text: str
    body_html: str
    created_at: datetime
    attachments: list[AttachmentRead]
    delivery: DeliveryRead | None = None


class EventRead(ReadSchema):
    type: str
    actor: str | None
    at: datetime
    data: dict[str, object]


class EscalationRead(ReadSchema):
    id: int
    department: str
    status: str
    reason: str
    expected_by: datetime
    answer: str
    created_at: datetime
    answered_at: datetime | None
    warned_at: datetime | None = Field(
        None, description="when the department and the agent were warned that expected_by is near"
    )
    overdue_at: datetime | None = Field(
        None, description="set (to expected_by) once the promised time passed unanswered"
    )


class TicketRead(ReadSchema):
    id: int
    number: str
    client: str
    subject: str
    kind: KindName
    priority: PriorityName
    status: StatusName
    channel: ChannelName
    customer: CustomerRead | None
    assignee: str | None
    team: str | None
    tags: list[str]
    escalated: bool
    external_id: str
    created_at: datetime
    updated_at: datetime


class TicketBrief(ReadSchema):
    id: int
    number: str
    subject: str
    status: StatusName
    channel: ChannelName
    created_at: datetime


class TicketCreated(TicketRead):
    open_tickets: list[TicketBrief] = Field(
        default_factory=list,
        description="the customer's other unresolved tickets (newest first, at most 20): "
        "该客户还有未解决的工单",
    )


class TicketDetail(TicketRead):
    messages: list[MessageRead]
    events: list[EventRead]
    escalations: list[EscalationRead]


class TicketPage(ReadSchema):
    items: list[TicketRead]
    next_before: int | None = Field(
        None, description="pass as ?before= to get the next page; null on the last page"
    )


class CustomerPage(ReadSchema):
    items: list[CustomerRead]
    next_before: int | None = None


class RevealCreate(Schema):
    field: Literal["name", "phones", "emails"]
    reason: Text = Field(..., max_length=500, description="why the raw value is needed; audited")


class MessageRevealCreate(Schema):
    reason: Text = Field(..., max_length=500, description="why the raw text is needed; audited")


class RevealRead(ReadSchema):
    field: str
    values: list[str] = Field(description="the raw values; shown once, never cached")


class Error(ReadSchema):
    detail: object
