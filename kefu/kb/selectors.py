"""Reads of the knowledge base that staff pages, public pages, the command line and the
agent's insert tools share."""

from __future__ import annotations

import calendar
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kefu.accounts.models import User
from kefu.contracts.models import Client
from kefu.kb import index, segment
from kefu.kb.models import (
    Article,
    ArticleStatus,
    ArticleVersion,
    ArticleView,
    CannedReply,
    Category,
    RequestMark,
    SynonymGroup,
    ViewSource,
)

# A session that submits no request within this time after reading an article suggested
# to it (or found by searching) was helped by the article: a deflection.
DEFLECTION_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class SearchResult:
    article: Article
    score: float


def synonyms_for(client_id: int) -> list[list[str]]:
    """The client's synonym groups and the shared ones."""
    return [
        list(g) for g in SynonymGroup.objects.for_client(client_id).values_list("terms", flat=True)
    ]


def kb_search(
    *,
    client: Client,
    query: str,
    limit: int = 10,
    published_only: bool = True,
    lang: str | None = None,
) -> list[SearchResult]:
    """The client's articles (its own and shared ones) best matching ``query``, best first.
    The query is cut into words by jieba, each word widened by the client's synonyms; an
    article matching more of the words, rarer words, and words in its title ranks higher.
    ``published_only=False`` (staff) includes drafts. Works the same on SQLite (FTS5) and
    PostgreSQL (tsvector + GIN): see kefu.kb.index."""
    groups = segment.query_groups(query, synonyms_for(client.pk))
    fetch = limit * 3 if lang else limit
    hits = index.index_search(
        groups=groups, client_id=client.pk, limit=fetch, published_only=published_only
    )
    articles = Article.objects.in_bulk([h.article_id for h in hits])
    results = [
        SearchResult(articles[h.article_id], h.score) for h in hits if h.article_id in articles
    ]
    if lang:
        results = [r for r in results if r.article.lang == lang]
    return results[:limit]


def articles_for(
    *, user: User, client_id: int | None = None, status: str = "", category_id: int | None = None
) -> QuerySet[Article]:
    """The articles a staff member may see (their clients' and shared ones), newest edit
    first; narrowed to one client (its own and shared), a status or a category."""
    qs = Article.objects.visible_to(user).select_related("client", "category")
    if client_id is not None:
        qs = qs.for_client(client_id)
    if status:
        qs = qs.filter(status=status)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    return qs.order_by("-updated_at", "-id")


def public_articles(*, client: Client) -> QuerySet[Article]:
    """What ``client``'s customers may read: its published articles and shared published ones."""
    return (
        Article.objects.for_client(client.pk)
        .filter(status=ArticleStatus.PUBLISHED)
        .select_related("category")
        .order_by("category__position", "category__name", "-updated_at")
    )


def categories_for(*, client_id: int) -> QuerySet[Category]:
    return Category.objects.for_client(client_id).order_by("position", "name")


def versions_of(article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("changed_by").order_by("-number")


def canned_replies_for(*, user: User, client_id: int, query: str = "") -> QuerySet[CannedReply]:
    """The canned replies an agent may use on a ticket or chat of ``client_id``: the
    client's replies for every agent and those of teams the agent belongs to. ``query``
    (with or without its leading ``/``) matches the start of a shortcut or a word of
    the title."""
    qs = (
        CannedReply.objects.visible_to(user)
        .filter(client_id=client_id)
        .filter(Q(team__isnull=True) | Q(team__members=user))
    )
    q = query.strip().lstrip("/").strip()
    if q:
        qs = qs.filter(Q(shortcut__istartswith=q) | Q(title__icontains=q))
    return qs.select_related("team").distinct().order_by("shortcut")


@dataclass(frozen=True)
class Deflection:
    views: int
    deflected: int
    pending: int

    @property
    def rate(self) -> float | None:
        """Deflected ÷ decided views; None when no view is decided yet."""
        decided = self.views - self.pending
        return self.deflected / decided if decided else None


def _month_bounds(client: Client, year: int, month: int) -> tuple[datetime, datetime]:
    zone = zoneinfo.ZoneInfo(client.time_zone or "Asia/Shanghai")
    start = datetime(year, month, 1, tzinfo=zone)
    days = calendar.monthrange(year, month)[1]
    return start, start + timedelta(days=days)


def deflection_figures(
    *, client: Client, year: int, month: int, now: datetime | None = None
) -> Deflection:
    """Article views opened from suggestions or the knowledge-base search on ``client``'s
    public pages in the month (the client's time zone): ``deflected`` are those whose
    session submitted no request within :data:`DEFLECTION_WINDOW` after the view;
    ``pending`` are those whose window has not yet closed (counted in ``views``, in
    neither ``deflected`` nor the rate)."""
    now = now or timezone.now()
    start, end = _month_bounds(client, year, month)
    views = ArticleView.objects.filter(
        client=client,
        viewed_at__gte=start,
        viewed_at__lt=end,
        source__in=[ViewSource.SUGGEST, ViewSource.SEARCH],
    )
    submitted = RequestMark.objects.filter(
        client=client,
        visitor=OuterRef("visitor"),
        submitted_at__gte=OuterRef("viewed_at"),
        submitted_at__lte=OuterRef("viewed_at") + DEFLECTION_WINDOW,
    )
    decided_before = now - DEFLECTION_WINDOW
    total = views.count()
    pending = views.filter(viewed_at__gt=decided_before).count()
    deflected = (
        views.filter(viewed_at__lte=decided_before)
        .annotate(submitted=Exists(submitted))
        .filter(submitted=False)
        .count()
    )
    return Deflection(views=total, deflected=deflected, pending=pending)
