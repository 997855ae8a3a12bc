"""The portal channel's delivery adapter (kefu.tickets.channels).

A reply on a portal ticket reaches the customer when it is stored where they read it: the
portal shows the ticket's public messages from the database, so the delivery is accepted
in the reply's own transaction at the message's instant, which is when the response
clocks are met. The customer is also told by SMS or mail that there is a reply
(:mod:`kefu.portal.notices`, best effort and recorded); that notice is not the delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from kefu.portal.services import reply_notice_queue
from kefu.tickets.channels import Accepted
from kefu.tickets.models import Channel, Delivery, Ticket


class PortalAdapter:
    channel = Channel.PORTAL
    reply_form: type[forms.Form] | None = None
    resendable = False
    confirm_within = None

    def transport_problem(self, *, ticket: Ticket) -> str | None:
        if ticket.customer_id is None:
            return _(
                "这张门户工单没有客户，回复无人可读 / "
                "This portal ticket has no customer to read the reply"
            )
        return None

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None:
        reply_notice_queue(delivery=delivery)
        return Accepted(at=delivery.message.created_at, external_id=f"portal:{delivery.message_id}")

    def send(self, *, delivery: Delivery) -> Accepted:
        return Accepted(at=delivery.message.created_at, external_id=f"portal:{delivery.message_id}")
