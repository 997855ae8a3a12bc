"""Audit log, data-subject requests and retention certificates. Thin: parse, call one
service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.selectors import clients_visible_to
from kefu.core.models import AuditAction
from kefu.core.params import date_param
from kefu.core.tenancy import get_visible_or_404
from kefu.privacy import selectors, services
from kefu.privacy.models import RetentionRun
from kefu.tickets.models import Customer
from kefu.tickets.selectors import keyset_page
from kefu.tickets.services import require

PAGE_SIZE = 100


def _user(request: HttpRequest, perm: Perm) -> User:
    user = request.user
    assert isinstance(user, User)
    require(user, perm)
    return user


def _filters(request: HttpRequest) -> selectors.AuditFilters:
    g = request.GET
    return selectors.AuditFilters(
        client=g.get("client", "")[:32],
        action=g.get("action", "")[:20],
        actor=g.get("actor", "").strip()[:150],
        since=date_param(g.get("since", "")[:10], name="since"),
        until=date_param(g.get("until", "")[:10], name="until"),
    )


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    user = _user(request, Perm.AUDIT_VIEW)
    filters = _filters(request)
    before_raw = request.GET.get("before", "")
    before = int(before_raw) if before_raw.isdigit() else None
    qs = selectors.audit_events(user=user, filters=filters)
    rows, next_before = keyset_page(qs, before=before, size=PAGE_SIZE)
    params = request.GET.copy()
    params.pop("before", None)
    query = params.urlencode()
    return render(
        request,
        "privacy/audit_log.html",
        {
            "events": rows,
            "filters": filters,
            "clients": clients_visible_to(user),
            "actions": AuditAction.choices,
            "query": query,
            "next_url": f"?{query}&before={next_before}" if next_before else "",
            "first_url": f"?{query}" if before is not None else "",
        },
    )


@login_required
@require_GET
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    user = _user(request, Perm.AUDIT_VIEW)
    qs = selectors.audit_events(user=user, filters=_filters(request))
    response = StreamingHttpResponse(
        selectors.audit_csv_rows(qs), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kefu-audit-{stamp}.csv"'
    return response


def _customer(request: HttpRequest, customer_id: int) -> tuple[User, Customer]:
    user = _user(request, Perm.PRIVACY_MANAGE)
    return user, get_visible_or_404(Customer, user, pk=customer_id)


@login_required
@require_GET
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    cust = _customer(request, customer_id)[1]
    return render(
        request,
        "privacy/customer.html",
        {
            "customer": cust,
            "summary": selectors.customer_summary(cust),
            "anonymised": services.customer_is_anonymised(cust),
        },
    )


@login_required
@require_POST
def customer_export(request: HttpRequest, customer_id: int) -> HttpResponse:
    user, cust = _customer(request, customer_id)
    body = services.customer_export(actor=user, customer=cust, request=request)
    response = HttpResponse(body, content_type="application/zip")
    name = f"kefu-customer-{cust.client.code}-{cust.pk}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def customer_anonymise(request: HttpRequest, customer_id: int) -> HttpResponse:
    user, cust = _customer(request, customer_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请勾选确认：匿名化不可撤销。"))
        return redirect("privacy:customer", customer_id=cust.pk)
    try:
        counts = services.customer_anonymise(
            actor=user, customer=cust, reason=request.POST.get("reason", ""), request=request
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("privacy:customer", customer_id=cust.pk)
    total = sum(counts.values())
    messages.success(request, _("已匿名化该客户，共处理 %(n)s 条记录。") % {"n": total})
    return redirect("privacy:customer", customer_id=cust.pk)


@login_required
@require_GET
def retention(request: HttpRequest) -> HttpResponse:
    user = _user(request, Perm.AUDIT_VIEW)
    today = timezone.localdate()
    schedule = selectors.retention_schedule(clients=clients_visible_to(user))
    return render(
        request,
        "privacy/retention.html",
        {
            "schedule": [(row, row.is_due(today)) for row in schedule],
            "runs": selectors.retention_runs(user=user)[:100],
        },
    )


@login_required
@require_GET
def retention_certificate(request: HttpRequest, run_id: int) -> HttpResponse:
    user = _user(request, Perm.AUDIT_VIEW)
    run = get_visible_or_404(RetentionRun, user, pk=run_id)
    return render(request, "privacy/certificate.html", {"run": run})
