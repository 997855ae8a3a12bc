"""The knowledge base's full-text index, one module for the two databases kefu runs on.

Text is cut into words by kefu.kb.segment before it reaches the database, so neither
database needs a Chinese parser. Every article has a row in ``kb_articlesearch`` (its
client, whether it is published, its title and body words). SQLite also keeps the words in
the FTS5 table ``kb_article_fts`` (rowid = article id, unicode61 splitting on the spaces);
PostgreSQL keeps a ``tsvector`` (``simple`` configuration, title words weight A, body B)
under a GIN index. This is the one place with SQL written for a particular database;
everything else calls :func:`index_write`, :func:`index_delete` and :func:`index_search`.

Searching is the same on both. A query is groups of alternatives
(kefu.kb.segment.query_groups). The database finds candidates in cheap steps, each
starting from few articles (see :func:`index_search`); kefu then scores the candidates
itself, the same way on both databases: for each query group an article holds, the
group's rarity (the idf of BM25: ln(1 + (N − n + ½) / (n + ½)), n the articles holding it)
times :data:`TITLE_WEIGHT` when it is in the title. Ties keep the database's order (bm25 on
SQLite, ts_rank on PostgreSQL), which also weighs how often and how densely the words
occur."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q

from kefu.kb import segment
from kefu.kb.models import Article, ArticleSearch

Groups = Sequence[Sequence[segment.Phrase]]

# How much more a query group found in the title counts than one found only in the body.
TITLE_WEIGHT = 3.0
# A query group held by at most this share of the articles (and at least one) is selective:
# the search starts from the articles holding one, not from every article holding any word.
SELECTIVE_SHARE = 0.01
SELECTIVE_MIN = 200
# How many candidates each step brings, per result asked for.
CANDIDATES_PER_RESULT = 4
_STATS_TTL = 300.0
_pg_stats: tuple[float, dict[str, float], int] | None = None


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


@dataclass(frozen=True)
class IndexRow:
    """One article's index entry with its words already cut (kefu.kb.segment.index_text)."""

    article_id: int
    client_id: int | None
    published: bool
    title_terms: str
    body_terms: str


def _sqlite() -> bool:
    return connection.vendor == "sqlite"


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


def index_bulk_write(rows: Sequence[IndexRow]) -> None:
    """Index articles, replacing what was there for them. Call it inside the transaction
    that wrote the articles."""
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
                "INSERT INTO kb_article_fts (rowid, title, body) VALUES (%s, %s, %s)",
                [[r.article_id, r.title_terms, r.body_terms] for r in rows],
            )
    else:
        ArticleSearch.objects.filter(pk__in=ids).update(
            vector=SearchVector("title_terms", weight="A", config="simple")
            + SearchVector("body_terms", weight="B", config="simple")
        )


def index_write(article: Article) -> None:
    """Put one saved article into the index (inside the transaction that wrote it)."""
    index_bulk_write(index_rows([article]))


def index_delete(article_id: int) -> None:
    if _sqlite():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM kb_article_fts WHERE rowid = %s", [article_id])
    ArticleSearch.objects.filter(pk=article_id).delete()


# --- SQLite ----------------------------------------------------------------------------


def _fts_phrase(p: segment.Phrase) -> str:
    return '"' + " ".join(p).replace('"', '""') + '"'


def _fts_group(group: Sequence[segment.Phrase]) -> str:
    return "{title body} : (" + " OR ".join(_fts_phrase(p) for p in group) + ")"


def _fts_any(groups: Groups) -> str:
    return " OR ".join(_fts_group(g) for g in groups)


def _fts_all(groups: Groups) -> str:
    return " AND ".join(_fts_group(g) for g in groups)


def _sqlite_doc_counts(terms: set[str]) -> tuple[dict[str, int], int]:
    """Articles holding each term (every client's), and about how many articles there are."""
    if not terms:
        return {}, 0
    marks = ", ".join(["%s"] * len(terms))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, doc FROM kb_article_fts_vocab WHERE term IN ({marks})",  # noqa: S608
            list(terms),
        )
        counts = {term: int(doc) for term, doc in cursor.fetchall()}
        cursor.execute("SELECT max(rowid) FROM kb_article_fts")
        (top,) = cursor.fetchone()
    return counts, int(top or 0)


def _sqlite_candidates(match: str, client_id: int, published_only: bool, limit: int) -> list[int]:
    published = " AND s.published" if published_only else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.rowid FROM kb_article_fts f JOIN kb_articlesearch s "  # noqa: S608
            "ON s.article_id = f.rowid WHERE kb_article_fts MATCH %s "
            f"AND (s.client_id = %s OR s.client_id IS NULL){published} "
            "ORDER BY bm25(kb_article_fts, %s, 1.0) LIMIT %s",
            [match, client_id, TITLE_WEIGHT, limit],
        )
        return [int(rowid) for (rowid,) in cursor.fetchall()]


# --- PostgreSQL ------------------------------------------------------------------------


def _ts_lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_group(group: Sequence[segment.Phrase]) -> str:
    return "(" + " | ".join("(" + " <-> ".join(_ts_lexeme(t) for t in p) + ")" for p in group) + ")"


def _ts_any(groups: Groups) -> str:
    return " | ".join(_ts_group(g) for g in groups)


def _ts_all(groups: Groups) -> str:
    return " & ".join(_ts_group(g) for g in groups)


def _pg_common() -> tuple[dict[str, float], int]:
    """The share of articles holding each of the most common words, as PostgreSQL's
    ANALYZE last counted them (``most_common_elems`` of the tsvector column), and the
    table's estimated row count; read at most every five minutes. A word missing from the
    list is rarer than those in it."""
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
    counted through the GIN index for the others (rare, so counting them is cheap)."""
    if not terms:
        return {}, 0
    common, total = _pg_common()
    counts = {t: int(common[t] * total) for t in terms if t in common}
    rare = sorted(terms - counts.keys())
    if rare:
        counts_sql = ", ".join(
            "count(*) FILTER (WHERE vector @@ to_tsquery('simple', %s))" for _ in rare
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {counts_sql} FROM kb_articlesearch "  # noqa: S608 - placeholders only
                "WHERE vector @@ to_tsquery('simple', %s)",
                [*(_ts_lexeme(t) for t in rare), " | ".join(_ts_lexeme(t) for t in rare)],
            )
            row = cursor.fetchone()
        counts.update(zip(rare, (int(c) for c in row), strict=True))
    return counts, max(total, max(counts.values(), default=0))


def _pg_candidates(match: str, client_id: int, published_only: bool, limit: int) -> list[int]:
    query = SearchQuery(match, search_type="raw", config="simple")
    qs = ArticleSearch.objects.filter(
        Q(client_id=client_id) | Q(client_id__isnull=True), vector=query
    )
    if published_only:
        qs = qs.filter(published=True)
    ranked = qs.annotate(
        rank=SearchRank(F("vector"), query, weights=[0.0, 0.0, 1.0 / TITLE_WEIGHT, 1.0])
    ).order_by("-rank", "pk")
    return list(ranked.values_list("pk", flat=True)[:limit])


# --- both ------------------------------------------------------------------------------


def _group_count(group: Sequence[segment.Phrase], counts: dict[str, int]) -> int:
    """At most how many articles hold the group: a phrase is no commoner than its rarest
    word, a group no commoner than its phrases together."""
    return sum(min(counts.get(t, 0) for t in p) for p in group)


def _holds(group: Sequence[segment.Phrase], words: set[str], text: str) -> bool:
    return any((p[0] in words) if len(p) == 1 else (" " + " ".join(p) + " ") in text for p in group)


def _scores(groups: Groups, idf: Sequence[float], ids: Sequence[int]) -> dict[int, float]:
    """Each candidate's score: Σ over the groups it holds of the group's idf, times
    :data:`TITLE_WEIGHT` when the title holds it."""
    out: dict[int, float] = {}
    rows = ArticleSearch.objects.filter(pk__in=ids).values_list("pk", "title_terms", "body_terms")
    for pk, title, body in rows:
        title_text, body_text = f" {title} ", f" {body} "
        title_words, body_words = set(title.split()), set(body.split())
        score = 0.0
        for group, weight in zip(groups, idf, strict=True):
            if _holds(group, title_words, title_text):
                score += weight * TITLE_WEIGHT
            elif _holds(group, body_words, body_text):
                score += weight
        out[pk] = score
    return out


def index_search(
    *,
    groups: Groups,
    client_id: int,
    limit: int,
    published_only: bool,
) -> list[Hit]:
    """The best ``limit`` articles of the client (and shared ones) for the query groups,
    best first, with their score (see the module docstring; 0 is never returned).

    Candidates come in steps, each cheap because it starts from few articles: those
    holding a selective group (a rare word: a model number, a shop's name); then, still
    short of ``limit``, those holding every group the knowledge base knows, then fewer
    groups at a time, the commonest dropped first. Groups no article holds (a typo, a
    filler word) are left out of the query."""
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
    candidates: Callable[[str, int, bool, int], list[int]] = (
        _sqlite_candidates if sqlite else _pg_candidates
    )
    any_of, all_of = (_fts_any, _fts_all) if sqlite else (_ts_any, _ts_all)
    threshold = max(SELECTIVE_MIN, int(total * SELECTIVE_SHARE))
    selective = [g for g in present if _group_count(g, counts) <= threshold]
    wanted = limit * CANDIDATES_PER_RESULT
    found: dict[int, int] = {}

    def step(match: str) -> None:
        for pk in candidates(match, client_id, published_only, wanted):
            found.setdefault(pk, len(found))

    if selective:
        step(any_of(selective))
    keep = list(present)
    while len(found) < limit and keep:
        step(all_of(keep))
        keep = keep[:-1]
    n = max(total, 1)
    idf = [
        math.log(1 + (n - _group_count(g, counts) + 0.5) / (_group_count(g, counts) + 0.5))
        for g in present
    ]
    scores = _scores(present, idf, list(found))
    ranked = sorted(found, key=lambda pk: (-scores.get(pk, 0.0), found[pk]))
    return [Hit(pk, round(scores[pk], 4)) for pk in ranked[:limit] if scores.get(pk)]
