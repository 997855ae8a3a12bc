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

import time
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


Groups = Sequence[Sequence[segment.Phrase]]

# A query group held by at most this share of the articles (and at least one) is selective:
# the search starts from the articles holding a selective group, not from every article
# holding any word of the query.
SELECTIVE_SHARE = 0.01
SELECTIVE_MIN = 200
# How many candidates each step of the search may bring for the final ranking.
CANDIDATES_PER_RESULT = 4
_STATS_TTL = 300.0
_pg_stats: tuple[float, dict[str, float], int] | None = None


def _fts_phrase(p: segment.Phrase) -> str:
    return '"' + " ".join(p).replace('"', '""') + '"'


def _fts_any(groups: Groups) -> str:
    return "{title body} : (" + " OR ".join(_fts_phrase(p) for g in groups for p in g) + ")"


def _fts_scope(client_id: int, published_only: bool) -> str:
    scope = f"scope : (c{client_id} OR cshared)"
    return scope + " AND scope : pub" if published_only else scope


def _sqlite_doc_counts(terms: set[str]) -> tuple[dict[str, int], int]:
    """Articles holding each term (every client's), and the number of articles."""
    if not terms:
        return {}, 0
    marks = ", ".join(["%s"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, doc FROM kb_article_fts_vocab WHERE term IN ({marks})",  # noqa: S608
            list(terms),
        )
        counts = {term: int(doc) for term, doc in cursor.fetchall()}
        cursor.execute("SELECT doc FROM kb_article_fts_vocab WHERE term = 'pub'")
        published = cursor.fetchone()
        cursor.execute("SELECT doc FROM kb_article_fts_vocab WHERE term = 'draft'")
        drafts = cursor.fetchone()
    total = (published[0] if published else 0) + (drafts[0] if drafts else 0)
    return counts, total


def _sqlite_rank(
    match: str, groups: Groups, client_id: int, published_only: bool, limit: int
) -> list[Hit]:
    """Articles matching ``match`` ranked by bm25 over every phrase of ``groups``."""
    expression = f"{_fts_scope(client_id, published_only)} AND ({match}) AND {_fts_any(groups)}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, bm25(kb_article_fts, %s, 1.0, 0.0) AS r FROM kb_article_fts "
            "WHERE kb_article_fts MATCH %s ORDER BY r LIMIT %s",
            [TITLE_WEIGHT, expression, limit],
        )
        return [Hit(int(rowid), -float(rank)) for rowid, rank in cursor.fetchall()]


def _ts_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_group(group: Sequence[segment.Phrase]) -> str:
    return " | ".join("(" + " <-> ".join(_ts_lexeme(t) for t in p) + ")" for p in group)


def _pg_common() -> tuple[dict[str, float], int]:
    """The share of articles holding each of the most common words, as PostgreSQL's
    ANALYZE last counted them (``most_common_elems`` of the tsvector column), and the
    table's estimated row count; read at most every five minutes. A word missing from
    the list is rarer than those in it."""
    global _pg_stats
    now = time.monotonic()
    if _pg_stats is not None and now - _pg_stats[0] < _STATS_TTL:
        return _pg_stats[1], _pg_stats[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'kb_articlesearch' AND attname = 'vector'"
        )
        row = cursor.fetchone()
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'kb_articlesearch'")
        estimate = cursor.fetchone()
    common: dict[str, float] = {}
    if row and row[0]:
        common = dict(zip(row[0], row[1], strict=False))
    total = max(int(estimate[0]) if estimate else 0, 0)
    _pg_stats = (now, common, total)
    return common, total


def _pg_doc_counts(terms: set[str]) -> tuple[dict[str, int], int]:
    """Articles holding each term: estimated from the statistics for common words,
    counted through the GIN index for the others (they are rare, so counting is cheap)."""
    if not terms:
        return {}, 0
    common, total = _pg_common()
    counts = {t: int(common[t] * total) for t in terms if t in common}
    rare = sorted(terms - counts.keys())
    if rare:
        with connection.cursor() as cursor:
            counts_sql = ", ".join(
                "count(*) FILTER (WHERE vector @@ to_tsquery('simple', %s))" for _ in rare
            )
            cursor.execute(
                f"SELECT {counts_sql} FROM kb_articlesearch "  # noqa: S608 - placeholders only
                "WHERE vector @@ to_tsquery('simple', %s)",
                [*(_ts_lexeme(t) for t in rare), " | ".join(_ts_lexeme(t) for t in rare)],
            )
            row = cursor.fetchone()
        counts.update(zip(rare, (int(c) for c in row), strict=True))
    return counts, total


def _pg_rank(
    match: str, groups: Groups, client_id: int, published_only: bool, limit: int
) -> list[Hit]:
    matching = SearchQuery(match, search_type="raw", config="simple")
    everything = SearchQuery(
        " | ".join(_ts_group(g) for g in groups), search_type="raw", config="simple"
    )
    qs = ArticleSearch.objects.filter(
        Q(client_id=client_id) | Q(client_id__isnull=True), vector=matching
    )
    if published_only:
        qs = qs.filter(published=True)
    rows = (
        qs.annotate(
            rank=SearchRank(F("vector"), everything, weights=[0.0, 0.0, 1.0 / TITLE_WEIGHT, 1.0])
        )
        .order_by("-rank", "pk")
        .values_list("pk", "rank")[:limit]
    )
    return [Hit(int(pk), float(rank)) for pk, rank in rows]


def _group_count(group: Sequence[segment.Phrase], counts: dict[str, int]) -> int:
    """At most how many articles hold the group: a phrase is no commoner than its rarest
    word, a group no commoner than its phrases together."""
    return sum(min(counts.get(t, 0) for t in p) for p in group)


def _matched_groups(groups: Groups, ids: Sequence[int]) -> dict[int, int]:
    """How many of the query's groups each article holds (in title or body)."""
    out: dict[int, int] = {}
    for pk, title, body in ArticleSearch.objects.filter(pk__in=ids).values_list(
        "pk", "title_terms", "body_terms"
    ):
        text = f" {title} {body} "
        words = set(text.split())
        out[pk] = sum(
            any((p[0] in words) if len(p) == 1 else (" " + " ".join(p) + " ") in text for p in g)
            for g in groups
        )
    return out


def index_search(
    *,
    groups: Groups,
    client_id: int,
    limit: int,
    published_only: bool,
) -> list[Hit]:
    """The best ``limit`` articles of the client (and shared ones) for the query groups,
    best first. The score is the number of query groups the article holds plus a fraction
    (under 1) for the database's relevance rank (bm25 on SQLite, ts_rank on PostgreSQL,
    both with title words weighted :data:`TITLE_WEIGHT`): an article holding more of what
    the customer typed always comes first, and among equals the rarer words and the title
    decide.

    Candidates come in steps, each cheap because it starts from few articles: the
    articles holding a selective group (a rare word: a model number, a shop's name), then
    those holding every group the knowledge base knows, then (still short of ``limit``)
    fewer groups at a time, the commonest dropped first."""
    if not groups or limit <= 0:
        return []
    sqlite = _sqlite()
    terms = {t for g in groups for p in g for t in p}
    counts, total = (_sqlite_doc_counts if sqlite else _pg_doc_counts)(terms)
    present = sorted(
        (g for g in groups if _group_count(g, counts) > 0), key=lambda g: _group_count(g, counts)
    )
    if not present:
        return []
    threshold = max(SELECTIVE_MIN, int(total * SELECTIVE_SHARE))
    selective = [g for g in present if _group_count(g, counts) <= threshold]
    rank = _sqlite_rank if sqlite else _pg_rank
    any_of = _fts_any if sqlite else (lambda gs: " | ".join(f"({_ts_group(g)})" for g in gs))
    all_of = (
        (lambda gs: " AND ".join(_fts_any([g]) for g in gs))
        if sqlite
        else (lambda gs: " & ".join(f"({_ts_group(g)})" for g in gs))
    )
    wanted = limit * CANDIDATES_PER_RESULT
    found: dict[int, float] = {}

    def step(match: str) -> None:
        for hit in rank(match, present, client_id, published_only, wanted):
            found.setdefault(hit.article_id, hit.score)

    if selective:
        step(any_of(selective))
    keep = list(present)
    while len(found) < limit and keep:
        step(all_of(keep))
        keep = keep[:-1]
    matched = _matched_groups(present, list(found))
    scored = [
        Hit(pk, round(matched.get(pk, 0) + max(r, 0.0) / (1.0 + max(r, 0.0)), 4))
        for pk, r in found.items()
    ]
    scored.sort(key=lambda h: (-h.score, h.article_id))
    return scored[:limit]


@dataclass(frozen=True)
class IndexRow:
    """One article's index entry with its words already cut (kefu.kb.segment.index_text)."""

    article_id: int
    client_id: int | None
    published: bool
    title_terms: str
    body_terms: str


def index_bulk_write(rows: Sequence[IndexRow]) -> None:
    """Index many articles at once (a rebuild, a benchmark's load), replacing what was
    there for them; the same entries :func:`index_write` makes one at a time."""
    ids = [r.article_id for r in rows]
    ArticleSearch.objects.filter(pk__in=ids).delete()
    ArticleSearch.objects.bulk_create(
        [
            ArticleSearch(
                article_id=r.article_id,
                client_id=r.client_id,
                published=r.published,
                title_terms=r.title_terms,
                body_terms=r.body_terms,
            )
            for r in rows
        ]
    )
    if _sqlite():
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM kb_article_fts WHERE rowid = %s", [[i] for i in ids])
            cursor.executemany(
                "INSERT INTO kb_article_fts (rowid, title, body, scope) VALUES (%s, %s, %s, %s)",
                [
                    [
                        r.article_id,
                        r.title_terms,
                        r.body_terms,
                        _scope_terms(r.client_id, r.published),
                    ]
                    for r in rows
                ],
            )
    else:
        ArticleSearch.objects.filter(pk__in=ids).update(
            vector=SearchVector("title_terms", weight="A", config="simple")
            + SearchVector("body_terms", weight="B", config="simple")
        )


def index_rows(articles: Sequence[Article]) -> list[IndexRow]:
    """The index entries of saved articles, their text cut into words here."""
    return [
        IndexRow(
            article_id=a.pk,
            client_id=a.client_id,
            published=a.is_published,
            title_terms=segment.index_text(a.title),
            body_terms=segment.index_text(" ".join([a.body_text, " ".join(a.tags or [])])),
        )
        for a in articles
    ]
