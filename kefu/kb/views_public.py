"""The knowledge base as a client's customers see it, without signing in, under
``/p/<client code>/kb/``: search, an article with "有帮助吗?", its pictures, and the
suggestions a request form shows as the customer types (kefu/static/kefu/kb-suggest.js).

Only published articles of that client and shared ones are reachable; anything else is
404, so nobody learns that a draft or another client's article exists."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kefu.contracts.models import Client
from kefu.kb import selectors, services
from kefu.kb.models import Article, ArticleAttachment, ViewSource
from kefu.kb.visitors import visitor_of
from kefu.tickets import uploads
from kefu.tickets.attachments import attachment_response

SUGGEST_LIMIT = 5
QUERY_MAX = 100


def _client(code: str) -> Client:
    return get_object_or_404(Client, code__iexact=code, is_active=True)


def _article(client: Client, pk: int) -> Article:
    return get_object_or_404(selectors.public_articles(client=client), pk=pk)


def _article_url(client: Client, article: Article, source: str) -> str:
    url = reverse("kb_public:article", args=[client.code, article.pk])
    return f"{url}?{urlencode({'from': source})}"


@require_GET
def search(request: HttpRequest, client_code: str) -> HttpResponse:
    client = _client(client_code)
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    results = []
    if query:
        results = [
            (r.article, _article_url(client, r.article, ViewSource.SEARCH))
            for r in selectors.kb_search(client=client, query=query, limit=20)
        ]
        articles = []
    else:
        articles = list(selectors.public_articles(client=client)[:100])
    return render(
        request,
        "kb/public_search.html",
        {"client": client, "query": query, "results": results, "articles": articles},
    )


@require_GET
def article(request: HttpRequest, client_code: str, pk: int) -> HttpResponse:
    client = _client(client_code)
    found = _article(client, pk)
    source = request.GET.get("from", ViewSource.DIRECT)
    services.article_view_record(
        client=client, article=found, visitor=visitor_of(request), source=source
    )
    return render(
        request,
        "kb/public_article.html",
        {"client": client, "article": found, "attachments": found.attachments.all()},
    )


@require_POST
def helpful(request: HttpRequest, client_code: str, pk: int) -> HttpResponse:
    client = _client(client_code)
    found = _article(client, pk)
    services.article_feedback(
        article=found, visitor=visitor_of(request), helpful=request.POST.get("helpful") == "yes"
    )
    messages.success(request, _("谢谢您的反馈 / Thank you for your feedback"))
    return redirect("kb_public:article", client.code, found.pk)


@never_cache
@require_GET
def suggest(request: HttpRequest, client_code: str) -> JsonResponse:
    """``{"results": [{"id", "title", "url", "snippet"}]}``: the articles best matching
    what the customer has typed so far (``q``), for a request form."""
    client = _client(client_code)
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    results = selectors.kb_search(client=client, query=query, limit=SUGGEST_LIMIT) if query else []
    return JsonResponse(
        {
            "results": [
                {
                    "id": r.article.pk,
                    "title": r.article.title,
                    "url": _article_url(client, r.article, ViewSource.SUGGEST),
                    "snippet": r.article.body_text[:80],
                }
                for r in results
            ]
        }
    )


# Pictures are shown in the article; only types a browser shows as a picture and nothing else.
_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@require_GET
def attachment(request: HttpRequest, client_code: str, pk: int) -> HttpResponseBase:
    """A file of a published article: a picture inline (type sniffed when it was
    uploaded), anything else as a download."""
    client = _client(client_code)
    found = get_object_or_404(
        ArticleAttachment.objects.filter(article__in=selectors.public_articles(client=client)),
        pk=pk,
    )
    if found.content_type not in _INLINE_IMAGES or found.content_type not in uploads.SERVED_TYPES:
        return attachment_response(found)  # type: ignore[arg-type]
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("file missing") from exc
    response = FileResponse(handle, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=3600"
    return response
