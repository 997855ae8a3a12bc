from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.core.tenancy import get_visible_or_404
from kefu.surveys import selectors, services
from kefu.surveys.links import SurveyLinkInvalid, survey_token_read
from kefu.surveys.models import CallbackOutcome, CallbackTask, Survey, SurveyStatus

# "invalid": altered or made up; "unknown": signed by kefu but no survey that was sent.
_REFUSED_STATUS = {"invalid": 400, "unknown": 404, "expired": 410, "answered": 409}


def _refused(request: HttpRequest, reason: str, survey: Survey | None = None) -> HttpResponse:
    return render(
        request,
        "surveys/refused.html",
        {"reason": reason, "client": survey.client if survey else None},
        status=_REFUSED_STATUS[reason],
    )


def _survey_page(
    request: HttpRequest, survey: Survey, *, status: int = 200, **extra: Any
) -> HttpResponse:
    ticket = survey.ticket
    rule = selectors.rule_for(survey.client_id, survey.sent_at or timezone.now())
    return render(
        request,
        "surveys/answer.html",
        {
            "survey": survey,
            "client": survey.client,
            "ticket": ticket,
            "rule": rule,
            "scores": [5, 4, 3, 2, 1],
            **extra,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's survey page, without a login: the link's signature is the key."""
    try:
        survey_id = survey_token_read(token)
    except SurveyLinkInvalid:
        return _refused(request, "invalid")
    survey = Survey.objects.select_related("client", "ticket").filter(pk=survey_id).first()
    if survey is None or survey.status != SurveyStatus.SENT or survey.channel == "chat":
        return _refused(request, "unknown")
    if request.method == "GET":
        if survey.answered_at is not None:
            return _refused(request, "answered", survey)
        if survey.expires_at is not None and timezone.now() >= survey.expires_at:
            return _refused(request, "expired", survey)
        return _survey_page(request, survey)
    try:
        services.survey_answer(
            survey_id=survey.pk,
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", "")[: services.COMMENT_LIMIT],
        )
    except services.SurveyAnswerRefused as exc:
        return _refused(request, exc.reason, survey)
    except ValidationError as exc:
        return _survey_page(
            request,
            survey,
            errors=exc.messages,
            comment=request.POST.get("comment", ""),
            status=400,
        )
    return render(request, "surveys/thanks.html", {"client": survey.client})


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied
    return user


@login_required
@require_GET
def callbacks(request: HttpRequest) -> HttpResponse:
    """回访任务: open, overdue and done callback tasks of the user's clients."""
    user = _staff(request)
    state = request.GET.get("state", "overdue")
    if state not in selectors.STATES:
        state = "overdue"
    tasks = selectors.callbacks_visible_to(user)
    kind = request.GET.get("kind", "")
    if kind in ("low_score", "sample"):
        tasks = tasks.filter(kind=kind)
    rows = selectors.callbacks_in_state(tasks, state).select_related(
        "client", "ticket", "survey", "done_by"
    )
    return render(
        request,
        "surveys/callbacks.html",
        {
            "state": state,
            "kind": kind,
            "counts": selectors.callback_counts(tasks),
            "rows": rows[:500],
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    task = get_visible_or_404(CallbackTask, user, pk=pk)
    if not selectors.callbacks_visible_to(user).filter(pk=task.pk).exists():
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.callback_record(
                task=task,
                actor=user,
                outcome=request.POST.get("outcome", ""),
                score=request.POST.get("score") or None,
                comment=request.POST.get("comment", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("surveys:callback", pk=task.pk)
        messages.success(request, "已记录回访结果 / Outcome recorded")
        return redirect("surveys:callbacks")
    return render(
        request,
        "surveys/callback.html",
        {
            "task": task,
            "outcomes": CallbackOutcome.choices,
            "scores": [5, 4, 3, 2, 1],
            "now": timezone.now(),
        },
    )
