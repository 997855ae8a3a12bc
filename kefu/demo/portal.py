"""The customer portal in the demo: each client's portal site in its colours, with the SMS
templates sign-in codes and reply notices need. The demo sends SMS through the console
backend (``var/sms/outbox.txt``), so a sign-in code can be read there."""

from __future__ import annotations

from kefu.contracts.models import Client
from kefu.portal.models import PortalSite
from kefu.sms.models import Purpose, SmsTemplate
from kefu.tickets.models import CustomerIdentifier, IdentifierKind, Ticket

COLOURS = {"HUAXIN": ("#0b5cab", "#f59e0b"), "MINGDA": ("#1f7a4d", "#d97706")}


def demo_portal(*, client: Client, name: str) -> str:
    """Make the client's portal and SMS templates; returns a phone number a visitor can
    sign in with to see a customer's history (the customer of the latest ticket)."""
    primary, accent = COLOURS.get(client.code, ("#1d4ed8", "#f59e0b"))
    PortalSite.objects.update_or_create(
        client=client,
        defaults={
            "display_name": f"{name}客户服务",
            "display_name_en": f"{client.code.title()} Customer Service",
            "primary_color": primary,
            "accent_color": accent,
            "welcome": f"欢迎来到{name}客户服务中心。/ Welcome to {client.code.title()} service.",
        },
    )
    texts = {
        Purpose.LOGIN_CODE: ("SMS_DEMO_0001", "您的登录验证码为{code}，{minutes}分钟内有效。"),
        Purpose.REPLY_NOTICE: ("SMS_DEMO_0002", "您的工单{number}有新回复，请登录查看：{link}"),
        Purpose.SURVEY_LINK: ("SMS_DEMO_0003", "请为本次服务评价：{link}"),
    }
    for purpose, (code, text) in texts.items():
        SmsTemplate.objects.update_or_create(
            client=client,
            purpose=purpose,
            defaults={"provider_code": code, "sign_name": name, "text": text},
        )
    for customer_id in (
        Ticket.objects.filter(client=client, customer__isnull=False)
        .order_by("-created_at")
        .values_list("customer_id", flat=True)[:20]
    ):
        row = CustomerIdentifier.objects.filter(
            customer_id=customer_id, kind=IdentifierKind.PHONE, verified=True
        ).first()
        if row is not None:
            return str(row.value)
    return ""
