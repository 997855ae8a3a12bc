from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import services
from kefu.accounts.models import ApiToken, TokenScope, User
from kefu.core.params import date_in_range


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    raw = None
    if request.method == "POST":
        try:
            _token, raw = services.api_token_create(
                user=user,
                name=request.POST.get("name", ""),
                scope=request.POST.get("scope", TokenScope.READ),
                expires_at=_end_of_day(request.POST.get("expires_on", "")),
            )
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=user),
            "raw_token": raw,
            "scopes": TokenScope.choices,
            "now": timezone.now(),
        },
    )


def _end_of_day(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        day = date_in_range(date.fromisoformat(text.strip()), name="expires_on")
    except (ValueError, BadRequest) as exc:
        raise ValidationError({"expires_on": _("到期日期格式应为 YYYY-MM-DD")}) from exc
    return services.api_token_expiry(day)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=_user(request))
    services.api_token_revoke(token=token, actor=_user(request))
    return redirect("accounts:tokens")


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    try:
        services.user_set_language(user=_user(request), language=request.POST.get("language", ""))
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
