"""The mail app's ``kefu doctor`` checks: every client whose current contract lists email
has a mailbox that can send, and production sends no mail to files."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from kefu.contracts.models import Client, Contract
from kefu.core.doctor import Finding, problem
from kefu.mail.health import check_mail
from kefu.mail.models import FILE_TRANSPORT, Mailbox

FIX_MAILBOX = (
    "在管理后台 邮件渠道 › 邮箱 中添加并启用该甲方的邮箱，填写 SMTP 服务器 / add and activate "
    "a mailbox for the client with its SMTP server (admin: 邮件渠道 › 邮箱, /admin/mail/mailbox/)"
)


def _clients_with_channel(channel: str) -> list[Client]:
    today = timezone.localdate()
    contracts = Contract.objects.filter(
        start_date__lte=today, end_date__gte=today, client__is_active=True
    ).select_related("client")
    found = {c.client_id: c.client for c in contracts if channel in (c.channels or [])}
    return sorted(found.values(), key=lambda client: client.code)


def mailboxes() -> Iterator[Finding]:
    for client in _clients_with_channel("email"):
        boxes = Mailbox.objects.filter(client=client, active=True)
        if not boxes.exists():
            yield problem(
                "mail",
                f"甲方 {client.code} 的合同包含邮件渠道，但没有启用的邮箱 / client {client.code}'s "
                "contract lists email but it has no active mailbox: its customers' mail is not "
                "read and replies cannot go out",
                FIX_MAILBOX,
            )
    # /readyz counts the active mailboxes that cannot send; here they are named.
    if not check_mail().ok:
        unable = Mailbox.objects.filter(active=True, smtp_host="").order_by("address")
        names = ", ".join(box.address for box in unable[:5])
        yield problem(
            "mail",
            f"{unable.count()} 个启用的邮箱没有 SMTP 服务器，回复发不出去 / {unable.count()} "
            f"active mailbox(es) have no SMTP server, replies cannot go out: {names}",
            "在邮箱设置中填写 SMTP 服务器，或停用该邮箱 / enter the SMTP server in the "
            "mailbox's settings, or deactivate it",
        )
    if settings.PRODUCTION:
        to_files = Mailbox.objects.filter(active=True, smtp_host=FILE_TRANSPORT).order_by("address")
        if to_files.exists():
            names = ", ".join(box.address for box in to_files[:5])
            yield problem(
                "mail",
                f"生产环境中 {to_files.count()} 个邮箱把回复写成文件而不是发送（SMTP 服务器为 "
                f"“{FILE_TRANSPORT}”）/ in production {to_files.count()} mailbox(es) write "
                f"replies to files instead of sending them (SMTP server “{FILE_TRANSPORT}”): "
                f"{names}",
                "把 SMTP 服务器改成真实的服务器 / set a real SMTP server",
            )
