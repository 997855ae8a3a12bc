"""The phone channel's delivery adapter (kefu.tickets.channels): a reply on a phone ticket
is a call to the customer, logged by the agent who made it (reached or not, talk seconds,
a summary). It is stored as an outbound :class:`~kefu.phone.models.Call` linked to the
ticket and to the reply's message. Reached: accepted at the instant the customer answered;
not reached: failed ("未接通 / not reached"), the response clocks keep running."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.phone.models import Call, CallDirection
from kefu.tickets.channels import Accepted, DeliveryFailed
from kefu.tickets.forms import ReplyForm
from kefu.tickets.models import Channel, Delivery, Ticket

MAX_TALK_SECONDS = 24 * 3600


class CallReplyForm(ReplyForm):
    """The reply form of a phone ticket: the call the agent made, and what was said."""

    body = forms.CharField(label=gettext_lazy("通话摘要"), widget=forms.Textarea(attrs={"rows": 4}))
    reached = forms.TypedChoiceField(
        label=gettext_lazy("致电客户"),
        choices=[("1", gettext_lazy("已接通")), ("0", gettext_lazy("未接通"))],
        coerce=lambda v: v == "1",
    )
    talk_seconds = forms.IntegerField(
        label=gettext_lazy("通话秒数"), min_value=0, max_value=MAX_TALK_SECONDS, initial=0
    )


def _call_fields(data: Mapping[str, Any]) -> tuple[bool, int]:
    reached = data.get("reached")
    if not isinstance(reached, bool):
        raise ValidationError(
            {"reached": _("请记录是否接通了客户 / Say whether the customer was reached")}
        )
    talk = data.get("talk_seconds") or 0
    if isinstance(talk, bool) or not isinstance(talk, int) or not 0 <= talk <= MAX_TALK_SECONDS:
        raise ValidationError({"talk_seconds": _("通话秒数应为 0–86400 / talk seconds: 0–86400")})
    return reached, talk if reached else 0


class PhoneAdapter:
    channel = Channel.PHONE
    reply_form: type[forms.Form] | None = CallReplyForm
    resendable = False
    confirm_within = None

    def transport_problem(self, *, ticket: Ticket) -> str | None:
        # The agent's own telephone is the transport (what happened is logged with the
        # reply): it needs a number to call.
        if ticket.customer is None or not ticket.customer.phones:
            return _(
                "客户没有电话号码：请先在客户资料中填写 / "
                "The customer has no phone number: add one to the customer first"
            )
        return None

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None:
        """Log the call (ended when the reply is written); the answer instant is the end
        less the talk time."""
        if data is None:
            raise DeliveryFailed(
                _("需要致电客户告知 / Call the customer to tell them"), retryable=False
            )
        reached, talk = _call_fields(data)
        message = delivery.message
        ended = delivery.created_at
        answered = ended - timedelta(seconds=talk) if reached else None
        call = Call.objects.create(
            client_id=delivery.client_id,
            direction=CallDirection.OUTBOUND,
            offered_at=answered or ended,
            answered_at=answered,
            ended_at=ended,
            wait_s=0,
            talk_s=talk,
            agent_id=message.author_id,
            ticket_id=delivery.ticket_id,
            message=message,
        )
        if answered is None:
            raise DeliveryFailed(_("未接通 / not reached"), retryable=False)
        return Accepted(at=answered, external_id=f"call:{call.pk}")

    def send(self, *, delivery: Delivery) -> Accepted:
        raise DeliveryFailed(
            _("电话无法重发：请再次致电并记录 / A call cannot be resent: call again and log it"),
            retryable=False,
        )
