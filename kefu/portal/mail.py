"""Mail the portal sends outside a ticket's own thread (a sign-in link, a reply notice):
through the client's first active mailbox that can send — its SMTP server, or files under
``KEFU_MAIL_OUTBOX`` for a mailbox whose server is ``file`` (the demo) — else Django's own
mail settings."""

from __future__ import annotations

from email.utils import formataddr, make_msgid
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from kefu.mail.models import FILE_TRANSPORT, Mailbox
from kefu.mail.outbound import smtp_connection
from kefu.portal.models import PortalSite


def portal_mail_send(*, site: PortalSite, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail now (raises what the transport raises)."""
    mailbox = (
        Mailbox.objects.filter(client_id=site.client_id, active=True)
        .exclude(smtp_host="")
        .order_by("pk")
        .first()
    )
    sender = mailbox.address if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    domain = sender.rpartition("@")[2] or "kefu.local"
    message_id = make_msgid(domain=domain)
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((site.display_name, sender)),
        to=[to],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    if mailbox is None:
        email.send()
    elif mailbox.smtp_host == FILE_TRANSPORT:
        outbox = Path(settings.KEFU_MAIL_OUTBOX)
        outbox.mkdir(parents=True, exist_ok=True)
        name = message_id.strip("<>").replace("/", "_")
        (outbox / f"{name}.eml").write_bytes(email.message().as_bytes())
    else:
        with smtp_connection(mailbox) as connection:
            connection.send_messages([email])


def signin_link_mail(*, site: PortalSite, to: str, link: str, minutes: int) -> None:
    with translation.override("zh-hans"):
        body = render_to_string(
            "portal/mail/signin_link.txt", {"site": site, "link": link, "minutes": minutes}
        )
    portal_mail_send(
        site=site, to=to, subject=f"{site.display_name} 登录链接 / Sign-in link", body=body
    )
