from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.selectors import clients_visible_to
from kefu.sla import selectors


@login_required
@require_GET
def at_risk(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not user.has_kefu_perm(Perm.OVERVIEW_VIEW):
        raise PermissionDenied
    client = request.GET.get("client", "")
    clocks = list(selectors.clocks_at_risk(user=user, client_code=client)[:300])
    return render(
        request,
        "sla/at_risk.html",
        {
            "clocks": clocks,
            "clients": clients_visible_to(user),
            "client": client,
            "breached": [c for c in clocks if c.status == "breached"],
            "running": [c for c in clocks if c.status == "running"],
        },
    )
