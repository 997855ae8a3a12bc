"""The chat app's ``kefu doctor`` check: every client whose current contract lists chat has
a chat widget that some website may open."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from kefu.chat.models import ChatWidget
from kefu.contracts.models import Contract
from kefu.core.doctor import Finding, problem


def widgets() -> Iterator[Finding]:
    today = timezone.localdate()
    contracts = Contract.objects.filter(
        start_date__lte=today, end_date__gte=today, client__is_active=True
    ).select_related("client")
    clients = {c.client_id: c.client for c in contracts if "chat" in (c.channels or [])}
    for client in sorted(clients.values(), key=lambda c: c.code):
        live = ChatWidget.objects.filter(client=client, revoked_at__isnull=True)
        if not any(widget.origins for widget in live):
            yield problem(
                "chat",
                f"甲方 {client.code} 的合同包含在线客服，但没有可用的在线客服窗口（未停用且填写了"
                f"网站来源）/ client {client.code}'s contract lists chat but it has no chat "
                "widget a website may open (not revoked, with its site's origin)",
                "在管理后台添加在线客服窗口并填写甲方网站的来源（如 https://www.example.cn）/ add "
                "a chat widget for the client in the admin with its website's origin",
            )
