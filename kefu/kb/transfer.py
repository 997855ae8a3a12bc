"""Knowledge-base import and export in JSON Lines: one article a line,
``{"id", "title", "body", "category", "tags", "lang"}`` (``status`` optional: ``published``
by default on import). ``id`` is the source's own id: importing a line whose id the
client already has updates that article in place (a new version when anything changed).

A bad line (not JSON, a field missing or of the wrong type) is reported with its line
number and skipped; the good lines are imported, in transactions of :data:`BATCH` lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kefu.accounts.models import User
from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.kb import services
from kefu.kb.models import Article, ArticleStatus, Category, Lang

BATCH = 200

_LANGS = {"zh": Lang.ZH, "zh-cn": Lang.ZH, "zh-hans": Lang.ZH, "en": Lang.EN, "": Lang.ZH}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Line:
    number: int
    source_id: str
    title: str
    body: str
    category: str
    tags: list[str]
    lang: str
    status: str


def _str(record: dict[str, Any], key: str, *, required: bool) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"missing {key!r}")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key!r} must be a string")
    return str(value)


def parse_line(number: int, raw: str) -> _Line:
    """One line as an article, or ValueError saying what is wrong with it."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from exc
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    source_id = _str(record, "id", required=True).strip()
    if len(source_id) > 100:
        raise ValueError("'id' longer than 100 characters")
    title = _str(record, "title", required=True).strip()
    if len(title) > 200:
        raise ValueError("'title' longer than 200 characters")
    tags = record.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("'tags' must be a list of strings")
    lang = _str(record, "lang", required=False).lower()
    if lang not in _LANGS:
        raise ValueError(f"'lang' must be zh or en, not {lang!r}")
    status = _str(record, "status", required=False) or ArticleStatus.PUBLISHED
    if status not in ArticleStatus.values:
        raise ValueError("'status' must be draft or published")
    return _Line(
        number=number,
        source_id=source_id,
        title=title,
        body=_str(record, "body", required=False),
        category=_str(record, "category", required=False).strip()[:100],
        tags=tags,
        lang=_LANGS[lang],
        status=status,
    )


def _batches(lines: Iterable[str], report: ImportReport) -> Iterator[list[_Line]]:
    batch: list[_Line] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            batch.append(parse_line(number, raw))
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_one(
    line: _Line,
    *,
    client: Client,
    actor: User | None,
    categories: dict[str, Category],
    report: ImportReport,
) -> None:
    category = None
    if line.category:
        category = categories.get(line.category)
        if category is None:
            category, _ = Category.objects.get_or_create(client=client, name=line.category)
            categories[line.category] = category
    data = services.ArticleData(
        title=line.title,
        body=line.body,
        category=category,
        tags=line.tags,
        lang=line.lang,
        status=line.status,
        source_id=line.source_id,
    )
    existing = Article.objects.filter(client=client, source_id=line.source_id).first()
    if existing is None:
        services.article_create(actor=actor, client=client, data=data, note="import")
        report.created += 1
        return
    version = existing.version
    updated = services.article_update(actor=actor, article=existing, data=data, note="import")
    if updated.version != version:
        report.updated += 1
    else:
        report.unchanged += 1


def kb_import(
    *,
    client: Client,
    lines: Iterable[str],
    actor: User | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import JSON Lines into ``client``'s knowledge base (see the module docstring);
    ``progress`` is called with the number of articles done after each batch."""
    report = ImportReport()
    categories: dict[str, Category] = {}
    done = 0
    for batch in _batches(lines, report):
        with transaction.atomic():
            for line in batch:
                try:
                    with transaction.atomic():
                        _import_one(
                            line, client=client, actor=actor, categories=categories, report=report
                        )
                except ValidationError as exc:
                    report.errors.append((line.number, "; ".join(exc.messages)))
        done += len(batch)
        if progress is not None:
            progress(done)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="kb.import",
            obj=client,
            data={
                "created": report.created,
                "updated": report.updated,
                "errors": len(report.errors),
            },
        )
    return report


def kb_export(*, client: Client, include_shared: bool = False) -> Iterator[str]:
    """The client's articles as JSON Lines (the import format, with ``status``)."""
    qs = (
        Article.objects.for_client(client.pk)
        if include_shared
        else Article.objects.filter(client=client)
    )
    for article in qs.select_related("category").order_by("id").iterator(chunk_size=500):
        yield json.dumps(
            {
                "id": article.public_id,
                "title": article.title,
                "body": article.body_html,
                "category": article.category.name if article.category else "",
                "tags": article.tags,
                "lang": "en" if article.lang == Lang.EN else "zh",
                "status": article.status,
            },
            ensure_ascii=False,
        )
