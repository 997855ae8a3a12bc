"""Chinese search: ranking, title weight, synonyms, scope (client, shared, drafts), and the
index kept in step with edits. Runs on whichever database the test run uses (SQLite FTS5
or PostgreSQL tsvector); CI runs both."""

from __future__ import annotations

from kefu.conftest import Tenant
from kefu.kb import services
from kefu.kb.models import ArticleStatus
from kefu.kb.selectors import kb_search
from kefu.kb.tests.factories import article


def _titles(tenant: Tenant, query: str, **kw: object) -> list[str]:
    return [r.article.title for r in kb_search(client=tenant.client, query=query, **kw)]  # type: ignore[arg-type]


def test_best_match_first_and_title_counts_more(tenant_a: Tenant) -> None:
    article(tenant_a.client, "发票开具说明", "电子发票在订单完成后七天内开具。")
    article(tenant_a.client, "宽带无法上网怎么办", "请先重启光猫和路由器，检查网线是否松动。")
    article(
        tenant_a.client, "路由器设置指南", "登录管理页面设置无线名称。如果宽带无法上网请联系客服。"
    )
    titles = _titles(tenant_a, "宽带上不了网，无法上网")
    assert titles[0] == "宽带无法上网怎么办"
    assert "路由器设置指南" in titles
    assert "发票开具说明" not in titles


def test_synonyms_of_the_client_widen_the_query(tenant_a: Tenant, tenant_b: Tenant) -> None:
    article(tenant_a.client, "调制解调器指示灯说明", "LOS 灯闪红色表示光纤信号中断。")
    article(tenant_b.client, "调制解调器指示灯说明", "LOS 灯闪红色表示光纤信号中断。")
    assert _titles(tenant_a, "光猫") == []
    services.synonym_group_save(actor=None, client=tenant_a.client, terms=["光猫", "调制解调器"])
    assert _titles(tenant_a, "光猫亮红灯") == ["调制解调器指示灯说明"]
    # Another client's synonyms do not apply.
    assert _titles(tenant_b, "光猫") == []


def test_only_own_and_shared_published_articles(tenant_a: Tenant, tenant_b: Tenant) -> None:
    article(tenant_a.client, "退款流程", "退款将在三个工作日内原路返回。")
    article(tenant_b.client, "退款政策", "退款需要提供订单号。")
    article(None, "退款常见问题", "共用文章：退款到账时间。")
    article(tenant_a.client, "退款草稿", "尚未发布的退款说明。", published=False)
    assert sorted(_titles(tenant_a, "退款")) == ["退款常见问题", "退款流程"]
    assert "退款草稿" in _titles(tenant_a, "退款", published_only=False)


def test_index_follows_edits_and_unpublishing(tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "积分兑换规则", "积分可以兑换优惠券。")
    assert _titles(tenant_a, "积分") == ["积分兑换规则"]
    services.article_update(
        actor=tenant_a.supervisor,
        article=a,
        data=services.ArticleData(
            title="会员等级说明", body="会员等级按年度消费计算。", status=ArticleStatus.PUBLISHED
        ),
    )
    assert _titles(tenant_a, "积分") == []
    assert _titles(tenant_a, "会员等级") == ["会员等级说明"]
    services.article_update(
        actor=tenant_a.supervisor,
        article=a,
        data=services.ArticleData(
            title="会员等级说明", body="会员等级按年度消费计算。", status=ArticleStatus.DRAFT
        ),
    )
    assert _titles(tenant_a, "会员等级") == []


def test_english_articles_are_found_by_english_words(tenant_a: Tenant) -> None:
    article(
        tenant_a.client, "Reset your router", "Hold the reset button for ten seconds.", lang="en"
    )
    article(tenant_a.client, "路由器复位", "按住复位键十秒。")
    assert _titles(tenant_a, "router reset") == ["Reset your router"]
    assert _titles(tenant_a, "路由器", lang="en") == []


def test_query_of_punctuation_or_stopwords_finds_nothing(tenant_a: Tenant) -> None:
    article(tenant_a.client, "退款流程", "退款将在三个工作日内原路返回。")
    assert _titles(tenant_a, "？？！") == []
    assert _titles(tenant_a, "的了吗") == []
