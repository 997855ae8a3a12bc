"""The provider admin's mail pages: mailbox health and the quarantine (list, raw download,
re-process). Thin: check the role, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.tenancy import get_visible_or_404
from kefu.mail import selectors, services
from kefu.mail.models import InboundMail

PAGE = 200


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or user.role != Role.ADMIN:
        raise PermissionDenied(_("只有乙方管理员可以查看邮件隔离区。"))
    return user


@login_required
@require_GET
def quarantine(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    return render(
        request,
        "mail/quarantine.html",
        {
            "rows": selectors.inbound_quarantined(user=user)[:PAGE],
            "mailboxes": selectors.mailboxes_visible(user=user),
        },
    )


@login_required
@require_GET
def inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    user = _admin(request)
    inbound = get_visible_or_404(InboundMail, user, pk=inbound_id)
    raw = services.mail_raw_download(inbound=inbound, actor=user, request=request)
    response = HttpResponse(raw, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def inbound_reprocess(request: HttpRequest, inbound_id: int) -> HttpResponse:
    user = _admin(request)
    inbound = get_visible_or_404(InboundMail, user, pk=inbound_id)
    try:
        result = services.mail_reprocess(inbound=inbound, actor=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if result.result == "quarantined":
            messages.warning(request, _("仍无法处理：%(reason)s") % {"reason": result.reason})
        else:
            messages.success(
                request,
                _("已重新处理：%(result)s %(ticket)s")
                % {"result": result.result, "ticket": result.ticket},
            )
    return redirect("mail:quarantine")
