"""The notice that a portal ticket has a reply (best effort: the reply is already on the
portal, where it counts as delivered). By SMS to the customer's verified phone when the
portal offers SMS and the client has a reply-notice template, else by mail to their
verified address; each notice records how it went or why it could not."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from kefu.portal.mail import portal_mail_send
from kefu.portal.models import NoticeStatus, PortalSite, ReplyNotice, SignInMethod
from kefu.sms.models import Purpose, SmsTemplate
from kefu.sms.services import sms_send
from kefu.tickets.models import CustomerIdentifier, IdentifierKind, Ticket

logger = logging.getLogger(__name__)


def portal_link(site: PortalSite, view: str, *args: object) -> str:
    """An absolute link to a portal page: on the client's own host when it has one."""
    path = reverse(view, args=[site.client.code, *args])
    base = f"https://{site.host}" if site.host else settings.KEFU_BASE_URL
    return base + path


def _verified(ticket: Ticket, kind: str) -> str:
    if ticket.customer_id is None:
        return ""
    row = (
        CustomerIdentifier.objects.filter(customer_id=ticket.customer_id, kind=kind, verified=True)
        .order_by("pk")
        .first()
    )
    return str(row.value) if row is not None else ""


def _finish(notice: ReplyNotice, status: str, method: str = "", detail: str = "") -> str:
    ReplyNotice.objects.filter(pk=notice.pk).update(
        status=status,
        method=method,
        detail=detail[:2000],
        sent_at=timezone.now() if status == NoticeStatus.SENT else None,
    )
    return status


def reply_notice_send(*, notice_id: int) -> str:
    notice = ReplyNotice.objects.filter(pk=notice_id, status=NoticeStatus.QUEUED).first()
    if notice is None:
        return "missing"
    ticket = Ticket.objects.select_related("client").get(pk=notice.ticket_id)
    site = PortalSite.objects.filter(client_id=ticket.client_id, enabled=True).first()
    if site is None or ticket.customer_id is None:
        return _finish(notice, NoticeStatus.SKIPPED, detail="no portal or no customer")
    link = portal_link(site, "portal:ticket", ticket.number)
    problems = []
    phone = _verified(ticket, IdentifierKind.PHONE)
    has_template = SmsTemplate.objects.filter(
        client_id=ticket.client_id, purpose=Purpose.REPLY_NOTICE
    ).exists()
    if phone and site.sign_in_sms and has_template:
        try:
            sms_send(
                client=ticket.client,
                to=phone,
                purpose=Purpose.REPLY_NOTICE,
                params={"number": ticket.number, "link": link},
                customer_id=ticket.customer_id,
                ticket_id=ticket.pk,
            )
            return _finish(notice, NoticeStatus.SENT, SignInMethod.SMS)
        except ValidationError as exc:
            problems.append(f"sms: {' '.join(exc.messages)}")
    email = _verified(ticket, IdentifierKind.EMAIL)
    if email:
        with translation.override("zh-hans"):
            body = render_to_string(
                "portal/mail/reply_notice.txt", {"site": site, "ticket": ticket, "link": link}
            )
        try:
            portal_mail_send(
                site=site,
                to=email,
                subject=f"{site.display_name}：工单 {ticket.number} 有新回复 / New reply",
                body=body,
            )
            return _finish(notice, NoticeStatus.SENT, SignInMethod.EMAIL, "; ".join(problems))
        except Exception as exc:
            logger.warning("reply notice %s by mail failed: %s", notice.pk, exc)
            problems.append(f"email: {type(exc).__name__}: {exc}")
            return _finish(notice, NoticeStatus.FAILED, SignInMethod.EMAIL, "; ".join(problems))
    if problems:
        return _finish(notice, NoticeStatus.FAILED, SignInMethod.SMS, "; ".join(problems))
    return _finish(notice, NoticeStatus.SKIPPED, detail="no verified phone or email")
