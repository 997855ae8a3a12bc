"""Knowledge-base search: latency and recall@5 of ``kb_search`` on 100,000 generated Chinese
articles, on SQLite (FTS5) and PostgreSQL (tsvector + GIN), against a plain
``LIKE '%query%'`` baseline in the same run.

    .venv/bin/python bench/kb_search.py [--articles 100000] [--queries 600] [--seed 7]
                                         [--db both|sqlite|postgres]

The corpus and queries (bench/kb_corpus.py, deterministic for the seed) are generated once
and their jieba-cut index text cached under ``var/bench``; each database then runs in a
child process on a fresh kefu (bench/fresh_kefu.py; PostgreSQL database ``kefu_kb_bench``
dropped and created again). The client ``BENCH`` holds the articles and the synonym groups
of the corpus; a second client ``OTHER`` holds a tenth as many more, which ``BENCH``'s
searches must step over. Articles are written with ``bulk_create`` and indexed with
``kefu.kb.index.index_bulk_write`` (the entries ``index_write`` makes one by one).

Each query is timed through the whole selector (jieba on the query, the synonym groups
read, the index searched, the five articles read), after a warm-up of 20 queries, one at a
time: wall time, and the CPU time of this process (on SQLite that includes the database's
work; on PostgreSQL only the client's). recall@5 is the share of queries whose known answer
is among the first five. The baseline is what a service desk without full-text search
does: published articles of the client whose title or body contains the query as typed,
titles first; it scans every article, so it runs on the first ``--like-queries`` queries
only. Figures are noisy on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from kb_corpus import GenQuery, generate, synonym_groups  # noqa: E402

WORK_DIR = ROOT / "var" / "bench"


def _cache_path(n: int, seed: int, queries: int) -> Path:
    return WORK_DIR / f"kb_corpus_{seed}_{n}_{queries}.jsonl"


def prepare(n: int, seed: int, queries: int) -> Path:
    """Generate the corpus and cut its text once; later runs reuse the file."""
    path = _cache_path(n, seed, queries)
    if path.exists():
        return path
    from kefu.kb import segment

    WORK_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    articles, qs = generate(n, seed, queries)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for a in articles:
            row = asdict(a) | {
                "title_terms": segment.index_text(a.title),
                "body_terms": segment.index_text(" ".join([a.body, " ".join(a.tags)])),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        for q in qs:
            fh.write(json.dumps({"query": asdict(q)}, ensure_ascii=False) + "\n")
    tmp.rename(path)
    print(f"corpus: {n} articles cut in {time.perf_counter() - started:.0f} s → {path}", flush=True)
    return path


def _load(path: Path) -> tuple[list[dict[str, Any]], list[GenQuery]]:
    articles, queries = [], []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "query" in row:
                queries.append(GenQuery(**row["query"]))
            else:
                articles.append(row)
    return articles, queries


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def child(db: str, path: Path, like_queries: int) -> dict[str, Any]:
    from fresh_kefu import fresh_kefu

    fresh_kefu(db, "kefu_kb_bench")
    from django.db import connection, transaction
    from django.db.models import Case, IntegerField, Q, Value, When
    from django.utils import timezone

    from kefu.contracts.services import client_create
    from kefu.kb import html, index, services
    from kefu.kb.models import Article, ArticleStatus
    from kefu.kb.selectors import kb_search

    rows, queries = _load(path)
    bench = client_create(code="BENCH", name="基准甲方")
    other = client_create(code="OTHER", name="其他甲方")
    for terms in synonym_groups():
        services.synonym_group_save(actor=None, client=bench, terms=terms)
    now = timezone.now()
    started = time.perf_counter()
    others = rows[: len(rows) // 10]
    for client, batch_rows in ((bench, rows), (other, others)):
        for i in range(0, len(batch_rows), 2000):
            chunk = batch_rows[i : i + 2000]
            with transaction.atomic():
                made = Article.objects.bulk_create(
                    [
                        Article(
                            client=client,
                            source_id=r["id"],
                            title=r["title"],
                            body_html=html.from_text(r["body"]),
                            body_text=r["body"],
                            tags=r["tags"],
                            status=ArticleStatus.PUBLISHED,
                            version=1,
                            created_at=now,
                            updated_at=now,
                            published_at=now,
                        )
                        for r in chunk
                    ]
                )
                if made and made[0].pk is None:  # backends that do not return ids
                    ids = dict(
                        Article.objects.filter(
                            client=client, source_id__in=[r["id"] for r in chunk]
                        ).values_list("source_id", "pk")
                    )
                    pks = [ids[r["id"]] for r in chunk]
                else:
                    pks = [a.pk for a in made]
                index.index_bulk_write(
                    [
                        index.IndexRow(pk, client.pk, True, r["title_terms"], r["body_terms"])
                        for pk, r in zip(pks, chunk, strict=True)
                    ]
                )
    load_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if db == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')")

    def ours(q: str) -> list[str]:
        return [r.article.source_id for r in kb_search(client=bench, query=q, limit=5)]

    def baseline(q: str) -> list[str]:
        qs = (
            Article.objects.filter(client=bench, status=ArticleStatus.PUBLISHED)
            .filter(Q(title__contains=q) | Q(body_text__contains=q))
            .annotate(
                in_title=Case(
                    When(title__contains=q, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("in_title", "id")
        )
        return list(qs.values_list("source_id", flat=True)[:5])

    results: dict[str, Any] = {"db": db, "articles": len(rows) + len(others), "load_s": load_s}
    for name, fn, measured in (
        ("kb_search", ours, queries),
        ("like", baseline, queries[:like_queries]),
    ):
        for q in measured[:20]:
            fn(q.text)
        times, cpu, hits, by_kind = [], [], 0, {}
        for q in measured:
            t0, c0 = time.perf_counter(), time.process_time()
            found = fn(q.text)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            hit = q.answer in found
            hits += hit
            k = by_kind.setdefault(q.kind, [0, 0])
            k[0] += hit
            k[1] += 1
        results[name] = {
            "queries": len(measured),
            "p50_ms": statistics.median(times),
            "p95_ms": _percentile(times, 95),
            "cpu_p50_ms": statistics.median(cpu),
            "cpu_p95_ms": _percentile(cpu, 95),
            "recall5": hits / len(measured),
            "by_kind": {k: v[0] / v[1] for k, v in by_kind.items()},
        }
    results["loadavg"] = os.getloadavg()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument(
        "--like-queries",
        type=int,
        default=200,
        help="how many of the queries the (slow) LIKE baseline runs: the first N",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = prepare(args.articles, args.seed, args.queries)
    if args.child:
        print(json.dumps(child(args.db, path, args.like_queries)))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"load average before: {os.getloadavg()}")
    for db in dbs:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--db", db, "--articles", str(args.articles),
             "--queries", str(args.queries), "--seed", str(args.seed),
             "--like-queries", str(args.like_queries)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\n{db}: {r['articles']} articles loaded and indexed in {r['load_s']:.0f} s; "
            f"load average {tuple(round(x, 2) for x in r['loadavg'])}"
        )
        print(
            f"  {'':10} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>7} {'cpu p95':>7}"
            f" {'recall@5':>8}   by kind"
        )
        for name in ("kb_search", "like"):
            s = r[name]
            kinds = "  ".join(f"{k} {v:.2f}" for k, v in sorted(s["by_kind"].items()))
            print(
                f"  {name:10} {s['queries']:7} {s['p50_ms']:7.1f} {s['p95_ms']:7.1f}"
                f" {s['cpu_p50_ms']:7.1f} {s['cpu_p95_ms']:7.1f} {s['recall5']:8.3f}   {kinds}"
            )


if __name__ == "__main__":
    main()
