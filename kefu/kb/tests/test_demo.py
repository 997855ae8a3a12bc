"""The demo's knowledge base: searchable articles, canned replies, and a clean reset."""

from __future__ import annotations

from kefu.contracts.services import client_create
from kefu.demo import kb as demo_kb
from kefu.kb.models import Article, CannedReply
from kefu.kb.selectors import kb_search


def test_demo_knowledge_base_is_searchable_and_resets(db: None) -> None:
    huaxin = client_create(code="HUAXIN", name="华信智能家居")
    mingda = client_create(code="MINGDA", name="明达物业服务")
    assert demo_kb.demo_kb(client=huaxin) == {"articles": 4, "canned": 3}
    assert demo_kb.demo_kb(client=mingda) == {"articles": 3, "canned": 2}
    [first, *_] = kb_search(client=huaxin, query="指纹锁打不开", limit=3)
    assert first.article.title == "智能门锁无法开锁怎么办"
    assert (
        kb_search(client=mingda, query="管理费怎么交", limit=1)[0].article.title == "如何缴纳物业费"
    )
    assert [r.article.title for r in kb_search(client=mingda, query="提交服务请求", limit=1)] == [
        "如何在网上提交服务请求"
    ]
    demo_kb.reset([huaxin.pk, mingda.pk])
    CannedReply.objects.filter(client__in=[huaxin, mingda]).delete()
    assert not Article.objects.exists()
    huaxin.delete()
    mingda.delete()
