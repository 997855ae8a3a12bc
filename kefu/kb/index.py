"""The knowledge base's full-text index, one module for the two databases kefu runs on.

Text is cut into words by kefu.kb.segment before it reaches the database, so neither
database needs a Chinese parser: SQLite stores the words in an FTS5 table
(``kb_article_fts``, rowid = article id, tokenizer unicode61 splitting on the spaces) and
ranks with bm25; PostgreSQL stores a ``tsvector`` built with the ``simple`` configuration
(title words weight A, body words weight B) under a GIN index and ranks with ``ts_rank``.
This is the one place with SQL written for a particular database; everything else calls
:func:`index_write`, :func:`index_delete` and :func:`index_search`.

A query is groups of alternatives (kefu.kb.segment.query_groups); an article matches when
it holds any alternative of any group, and ranks higher the more groups it holds, the rarer
the words, and when they are in its title (:data:`TITLE_WEIGHT`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, Value

from kefu.kb import segment
from kefu.kb.models import Article, ArticleSearch

# How much more a word in the title counts than one in the body.
TITLE_WEIGHT = 4.0


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


def _sqlite() -> bool:
    return connection.vendor == "sqlite"


def _scope_terms(client_id: int | None, published: bool) -> str:
    return f"{'c' + str(client_id) if client_id else 'cshared'} {'pub' if published else 'draft'}"


def index_write(article: Article) -> None:
    """Put ``article`` (saved) into the index, replacing what was there. Call it inside the
    transaction that wrote the article."""
    body = " ".join([article.body_text, " ".join(article.tags or [])])
    title_terms = segment.index_text(article.title)
    body_terms = segment.index_text(body)
    published = article.is_published
    ArticleSearch.objects.update_or_create(
        article=article,
        defaults={
            "client_id": article.client_id,
            "published": published,
            "title_terms": title_terms,
            "body_terms": body_terms,
        },
    )
    if _sqlite():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM kb_article_fts WHERE rowid = %s", [article.pk])
            cursor.execute(
                "INSERT INTO kb_article_fts (rowid, title, body, scope) VALUES (%s, %s, %s, %s)",
                [article.pk, title_terms, body_terms, _scope_terms(article.client_id, published)],
            )
    else:
        ArticleSearch.objects.filter(pk=article.pk).update(
            vector=SearchVector(Value(title_terms), weight="A", config="simple")
            + SearchVector(Value(body_terms), weight="B", config="simple")
        )


def index_delete(article_id: int) -> None:
    if _sqlite():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM kb_article_fts WHERE rowid = %s", [article_id])
    ArticleSearch.objects.filter(pk=article_id).delete()


def _fts_phrase(p: segment.Phrase) -> str:
    return '"' + " ".join(p).replace('"', '""') + '"'


def _fts_query(
    groups: Sequence[Sequence[segment.Phrase]], client_id: int, published_only: bool
) -> str:
    alternatives = " OR ".join(_fts_phrase(p) for g in groups for p in g)
    scope = f"scope : (c{client_id} OR cshared)"
    if published_only:
        scope += " AND scope : pub"
    return f"{scope} AND {{title body}} : ({alternatives})"


def _sqlite_search(
    groups: Sequence[Sequence[segment.Phrase]], client_id: int, limit: int, published_only: bool
) -> list[Hit]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(kb_article_fts, %s, 1.0, 0.0) AS r FROM kb_article_fts "
            "WHERE kb_article_fts MATCH %s ORDER BY r LIMIT %s",
            [TITLE_WEIGHT, _fts_query(groups, client_id, published_only), limit],
        )
        return [Hit(int(rowid), round(-float(rank), 4)) for rowid, rank in cursor.fetchall()]


def _ts_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_query(groups: Sequence[Sequence[segment.Phrase]]) -> str:
    parts = []
    for g in groups:
        for p in g:
            parts.append("(" + " <-> ".join(_ts_lexeme(t) for t in p) + ")")
    return " | ".join(parts)


def _pg_search(
    groups: Sequence[Sequence[segment.Phrase]], client_id: int, limit: int, published_only: bool
) -> list[Hit]:
    query = SearchQuery(_ts_query(groups), search_type="raw", config="simple")
    weight_b = 1.0 / TITLE_WEIGHT
    qs = ArticleSearch.objects.filter(
        Q(client_id=client_id) | Q(client_id__isnull=True), vector=query
    )
    if published_only:
        qs = qs.filter(published=True)
    rows = (
        qs.annotate(rank=SearchRank(F("vector"), query, weights=[0.0, 0.0, weight_b, 1.0]))
        .order_by("-rank", "pk")
        .values_list("pk", "rank")[:limit]
    )
    return [Hit(int(pk), round(float(rank), 4)) for pk, rank in rows]


def index_search(
    *,
    groups: Sequence[Sequence[segment.Phrase]],
    client_id: int,
    limit: int,
    published_only: bool,
) -> list[Hit]:
    """The best ``limit`` articles of the client (and shared ones) for the query groups,
    best first, with a relevance score (higher is better; comparable within one search)."""
    if not groups or limit <= 0:
        return []
    search = _sqlite_search if _sqlite() else _pg_search
    return search(groups, client_id, limit, published_only)
