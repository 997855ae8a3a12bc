"""Staff pages of the knowledge base (/kb/) and the agents' insert tools (JSON for the
ticket reply form and the chat console)."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.models import Client
from kefu.core import params
from kefu.kb import selectors, services
from kefu.kb.canned import canned_render
from kefu.kb.forms import (
    SHARED,
    ArticleForm,
    CannedReplyForm,
    CategoryForm,
    SynonymForm,
    client_choices,
    client_of,
)
from kefu.kb.html import to_text
from kefu.kb.models import Article, ArticleAttachment, CannedReply, Category, SynonymGroup
from kefu.tickets.attachments import attachment_response
from kefu.tickets.selectors import access_ticket


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _staff(request: HttpRequest) -> User:
    """Provider staff and client auditors read the knowledge base; others may not."""
    user = _user(request)
    if not (user.is_provider or user.has_kefu_perm(Perm.AUDIT_VIEW)):
        raise PermissionDenied
    return user


def _editor(request: HttpRequest) -> User:
    user = _staff(request)
    if not user.has_kefu_perm(Perm.KB_EDIT):
        raise PermissionDenied
    return user


def _visible_client(user: User, raw: str | None) -> Client | None:
    if not raw:
        return None
    client_id = params.int_param(raw, name="client")
    if client_id is None:
        return None
    ids = user.visible_client_ids()
    if ids is not None and client_id not in ids:
        raise PermissionDenied
    return get_object_or_404(Client, pk=client_id)


def _error_text(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    clients = client_choices(user, with_shared=False)
    client = _visible_client(
        user, request.GET.get("client") or (clients[0][0] if clients else None)
    )
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    results: list[selectors.SearchResult] = []
    page = None
    if query and client is not None:
        results = selectors.kb_search(client=client, query=query, limit=30, published_only=False)
        if status:
            results = [r for r in results if r.article.status == status]
    else:
        qs = selectors.articles_for(
            user=user, client_id=client.pk if client else None, status=status
        )
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "kb/index.html",
        {
            "clients": clients,
            "client": client,
            "query": query,
            "status": status,
            "results": results,
            "page": page,
            "can_edit": user.has_kefu_perm(Perm.KB_EDIT),
        },
    )


def _article_form_save(
    request: HttpRequest, user: User, form: ArticleForm, article: Article | None
) -> Article:
    data = services.ArticleData(
        title=form.cleaned_data["title"],
        body=form.cleaned_data["body"],
        category=form.cleaned_data["category"],
        tags=form.tag_list(),
        lang=form.cleaned_data["lang"],
        status=form.cleaned_data["status"],
        source_id=article.source_id if article else "",
    )
    note = form.cleaned_data["note"]
    if article is None:
        article = services.article_create(
            actor=user, client=client_of(form.cleaned_data["client"]), data=data, note=note
        )
    else:
        article = services.article_update(actor=user, article=article, data=data, note=note)
    files = request.FILES.getlist("attachments")
    if files:
        services.article_attach(actor=user, article=article, files=files)
    return article


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _staff(request)
    article = get_object_or_404(Article.objects.visible_to(user), pk=pk) if pk else None
    if request.method == "POST":
        _editor(request)
        client_id = article.client_id if article else None
        posted = request.POST.copy()
        if article is not None:
            posted["client"] = str(article.client_id or SHARED)
        form = ArticleForm(posted, request.FILES, user=user, client_id=client_id)
        if form.is_valid():
            try:
                article = _article_form_save(request, user, form, article)
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("已保存 / Saved"))
                return redirect("kb:article", article.pk)
    else:
        initial: dict[str, Any] = {"lang": "zh-hans", "status": "draft"}
        if article is not None:
            initial = {
                "client": str(article.client_id or SHARED),
                "title": article.title,
                "body": article.body_html,
                "category": article.category_id,
                "tags": ", ".join(article.tags),
                "lang": article.lang,
                "status": article.status,
            }
        elif request.GET.get("client"):
            initial["client"] = request.GET["client"]
        form = ArticleForm(
            initial=initial, user=user, client_id=article.client_id if article else None
        )
    context: dict[str, Any] = {
        "form": form,
        "article": article,
        "can_edit": user.has_kefu_perm(Perm.KB_EDIT)
        and (article is None or not article.is_shared or user.role == "admin"),
    }
    if article is not None:
        context["versions"] = selectors.versions_of(article)
        context["attachments"] = article.attachments.all()
        if article.client_id:
            context["public_url"] = reverse(
                "kb_public:article", args=[article.client.code, article.pk]
            )
    return render(request, "kb/article.html", context)


@login_required
@require_GET
def version_diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One version against the one before it: what changed, line by line."""
    user = _staff(request)
    article = get_object_or_404(Article.objects.visible_to(user), pk=pk)
    version = get_object_or_404(article.versions, number=number)
    before = article.versions.filter(number=number - 1).first()
    old = f"{before.title}\n\n{to_text(before.body_html)}" if before else ""
    new = f"{version.title}\n\n{to_text(version.body_html)}"
    diff = [
        line
        for line in difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"v{number - 1}", f"v{number}", lineterm="", n=2
        )
    ]
    return render(
        request,
        "kb/version.html",
        {"article": article, "version": version, "before": before, "diff": diff},
    )


@login_required
@require_POST
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _editor(request)
    article = get_object_or_404(Article.objects.visible_to(user), pk=pk)
    services.article_delete(actor=user, article=article)
    messages.success(request, _("已删除 / Deleted"))
    return redirect("kb:index")


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _staff(request)
    attachment = get_object_or_404(
        ArticleAttachment.objects.filter(article__in=Article.objects.visible_to(user)), pk=pk
    )
    return attachment_response(attachment)  # type: ignore[arg-type]


@login_required
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = CategoryForm(request.POST or None, user=user)
    if request.method == "POST":
        _editor(request)
        if form.is_valid():
            try:
                services.category_create(
                    actor=user,
                    client=client_of(form.cleaned_data["client"]),
                    name=form.cleaned_data["name"],
                )
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                return redirect("kb:categories")
    rows = (
        Category.objects.visible_to(user)
        .select_related("client")
        .order_by("client_id", "position", "name")
    )
    return render(
        request,
        "kb/categories.html",
        {"form": form, "categories": rows, "can_edit": user.has_kefu_perm(Perm.KB_EDIT)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def synonyms(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = SynonymForm(request.POST or None, user=user)
    if request.method == "POST":
        _editor(request)
        if "delete" in request.POST:
            group = get_object_or_404(
                SynonymGroup.objects.visible_to(user),
                pk=params.int_param(request.POST["delete"], name="delete"),
            )
            services.synonym_group_delete(actor=user, group=group)
            return redirect("kb:synonyms")
        if form.is_valid():
            try:
                services.synonym_group_save(
                    actor=user,
                    client=client_of(form.cleaned_data["client"]),
                    terms=form.term_list(),
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(
                    None, _error_text(exc) if isinstance(exc, ValidationError) else str(exc)
                )
            else:
                return redirect("kb:synonyms")
    rows = (
        SynonymGroup.objects.visible_to(user).select_related("client").order_by("client_id", "id")
    )
    return render(
        request,
        "kb/synonyms.html",
        {"form": form, "groups": rows, "can_edit": user.has_kefu_perm(Perm.KB_EDIT)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def canned(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The canned replies of the user's clients; editors add, change and delete them."""
    user = _staff(request)
    reply = get_object_or_404(CannedReply.objects.visible_to(user), pk=pk) if pk else None
    initial = {}
    if reply is not None:
        initial = {
            "client": str(reply.client_id),
            "team": reply.team_id,
            "shortcut": reply.shortcut,
            "title": reply.title,
            "body": reply.body,
        }
    form = CannedReplyForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST":
        _editor(request)
        if "delete" in request.POST and reply is not None:
            services.canned_reply_delete(actor=user, reply=reply)
            return redirect("kb:canned")
        if form.is_valid():
            client = client_of(form.cleaned_data["client"])
            assert client is not None
            try:
                services.canned_reply_save(
                    actor=user,
                    client=client,
                    team=form.cleaned_data["team"],
                    shortcut=form.cleaned_data["shortcut"],
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    reply=reply,
                )
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("已保存 / Saved"))
                return redirect("kb:canned")
    rows = (
        CannedReply.objects.visible_to(user)
        .select_related("client", "team")
        .order_by("client_id", "shortcut")
    )
    return render(
        request,
        "kb/canned.html",
        {
            "form": form,
            "reply": reply,
            "replies": rows,
            "can_edit": user.has_kefu_perm(Perm.KB_EDIT),
        },
    )


@login_required
@require_GET
def deflection(request: HttpRequest) -> HttpResponse:
    """Self-service deflection per client for a month (default: this month)."""
    user = _staff(request)
    now = timezone.localtime()
    month = request.GET.get("month") or now.strftime("%Y-%m")
    try:
        parsed = datetime.strptime(month, "%Y-%m")
    except ValueError:
        parsed = now.replace(tzinfo=None)
    ids = user.visible_client_ids()
    clients = Client.objects.all() if ids is None else Client.objects.filter(pk__in=ids)
    rows = [
        (c, selectors.deflection_figures(client=c, year=parsed.year, month=parsed.month))
        for c in clients.order_by("code")
    ]
    return render(request, "kb/deflection.html", {"rows": rows, "month": parsed.strftime("%Y-%m")})


def _agent_client_and_ticket(request: HttpRequest, user: User) -> tuple[int, Any]:
    raw_ticket = request.GET.get("ticket")
    if raw_ticket:
        ticket = access_ticket(user, params.int_param(raw_ticket, name="ticket") or 0)
        return ticket.client_id, ticket
    client = _visible_client(user, request.GET.get("client"))
    if client is None:
        raise PermissionDenied
    return client.pk, None


@login_required
@require_GET
def agent_articles(request: HttpRequest) -> JsonResponse:
    """Articles an agent may insert into a reply on a ticket (or chat) of a client: the
    client's and shared ones matching ``q``, drafts left out, with their text and public
    link."""
    user = _user(request)
    if not user.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied
    client_id, _ticket = _agent_client_and_ticket(request, user)
    client = Client.objects.get(pk=client_id)
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.kb_search(client=client, query=query, limit=8) if query else []
    return JsonResponse(
        {
            "results": [
                {
                    "id": r.article.pk,
                    "title": r.article.title,
                    "text": r.article.body_text,
                    "url": request.build_absolute_uri(
                        reverse("kb_public:article", args=[client.code, r.article.pk])
                    ),
                }
                for r in results
            ]
        }
    )


@login_required
@require_GET
def agent_canned(request: HttpRequest) -> JsonResponse:
    """Canned replies matching ``q`` (a shortcut with or without its ``/``) for a ticket,
    their placeholders filled for that ticket and this agent."""
    user = _user(request)
    if not user.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied
    client_id, ticket = _agent_client_and_ticket(request, user)
    replies = selectors.canned_replies_for(
        user=user, client_id=client_id, query=request.GET.get("q", "")
    )[:10]
    return JsonResponse(
        {
            "results": [
                {
                    "id": r.pk,
                    "shortcut": r.shortcut,
                    "title": r.title,
                    "text": canned_render(r.body, ticket=ticket, agent=user),
                }
                for r in replies
            ]
        }
    )
