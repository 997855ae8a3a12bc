"""Articles built through the real services."""

from __future__ import annotations

from collections.abc import Sequence

from kefu.contracts.models import Client
from kefu.kb import services
from kefu.kb.models import Article, ArticleStatus


def article(
    client: Client | None,
    title: str,
    body: str,
    *,
    published: bool = True,
    tags: Sequence[str] = (),
    source_id: str = "",
    lang: str = "zh-hans",
) -> Article:
    return services.article_create(
        actor=None,
        client=client,
        data=services.ArticleData(
            title=title,
            body=body,
            tags=tags,
            lang=lang,
            status=ArticleStatus.PUBLISHED if published else ArticleStatus.DRAFT,
            source_id=source_id,
        ),
    )
