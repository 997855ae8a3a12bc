"""The email channel's delivery adapter (kefu.tickets.channels): a reply on an email ticket
is a mail to the customer's address through a mailbox of the client that can send, threaded
onto their mail (kefu.mail.outbound)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from kefu.mail.outbound import mail_reply_queue, mail_reply_route, mail_reply_send
from kefu.tickets.channels import Accepted, DeliveryFailed
from kefu.tickets.models import Channel, Delivery, Ticket

if TYPE_CHECKING:
    from django import forms


class EmailAdapter:
    channel = Channel.EMAIL
    reply_form: type[forms.Form] | None = None
    resendable = True
    confirm_within = None

    def transport_problem(self, *, ticket: Ticket) -> str | None:
        route = mail_reply_route(ticket)
        if route.mailbox is None:
            return _(
                "该甲方没有可发送的邮箱：请在 管理 › 邮箱 中配置 SMTP / "
                "No mailbox can send for this client: configure SMTP under Admin › Mailboxes"
            )
        if not route.address:
            return _(
                "客户没有邮箱地址：请先在客户资料中填写 / "
                "The customer has no email address: add one to the customer first"
            )
        return None

    def prepare(self, *, delivery: Delivery, data: Mapping[str, Any] | None) -> Accepted | None:
        if mail_reply_queue(message=delivery.message) is None:
            raise DeliveryFailed(
                self.transport_problem(ticket=delivery.ticket) or "", retryable=False
            )
        return None

    def send(self, *, delivery: Delivery) -> Accepted:
        return mail_reply_send(message_id=delivery.message_id)
