"""The agent's insert tools in a real browser (fixtures of kefu/core/tests/test_browser.py):
a canned reply chosen by typing its shortcut in the reply box, previewed with its
placeholders filled, inserted and sent; an article's public link inserted from a search;
the public suggestions a request form shows as the customer types."""

from __future__ import annotations

from typing import Any

from kefu.conftest import Tenant
from kefu.core.tests import test_browser
from kefu.kb import services
from kefu.kb.models import ArticleView
from kefu.kb.tests.factories import article
from kefu.tickets.models import Message

pytestmark = test_browser.pytestmark
browser = test_browser.browser
kefu_server = test_browser.kefu_server
open_page = test_browser.open_page


def test_agent_inserts_a_canned_reply_with_placeholders_and_sends_it(
    open_page: Any, tenant_a: Tenant
) -> None:
    tenant_a.agent.display_name = "小李"
    tenant_a.agent.save(update_fields=["display_name"])
    services.canned_reply_save(
        actor=tenant_a.supervisor,
        client=tenant_a.client,
        shortcut="退款",
        title="退款已处理",
        body="{客户}您好，工单 {工单号} 的退款已提交，三个工作日内到账。客服 {坐席}",
    )
    ticket = tenant_a.ticket
    p = open_page()
    p.login(tenant_a.agent.username)
    p.page.goto(f"{p.base}/tickets/{ticket.pk}/")
    box = p.page.locator("#reply-form textarea[name=body]")
    box.click()
    box.press_sequentially("好的。/退")
    p.page.get_by_role("button", name="/退款 · 退款已处理").click()
    expected = f"王**您好，工单 {ticket.number} 的退款已提交，三个工作日内到账。客服 小李"
    preview = p.page.locator("[data-kb-part=preview-text]")
    assert preview.inner_text() == expected
    assert box.input_value() == "好的。/退"  # nothing changes before "insert"
    p.page.click("[data-kb-part=insert-text]")
    assert box.input_value() == "好的。" + expected
    p.page.click("#reply-form button[type=submit]")
    p.page.wait_for_load_state()
    p.page.locator(".conversation", has_text=expected).wait_for(timeout=5000)
    sent = Message.objects.filter(ticket=ticket, direction="out").order_by("-id").first()
    assert sent is not None and sent.body_text == "好的。" + expected
    p.clean()


def test_agent_inserts_an_articles_link_from_a_search(open_page: Any, tenant_a: Tenant) -> None:
    a = article(tenant_a.client, "退款到账时间", "退款审核通过后三个工作日内原路退回。")
    p = open_page()
    p.login(tenant_a.agent.username)
    p.page.goto(f"{p.base}/tickets/{tenant_a.ticket.pk}/")
    p.page.fill("[data-kb-part=query]", "退款多久到账")
    p.page.get_by_role("button", name="退款到账时间").click()
    assert "三个工作日内原路退回" in p.page.locator("[data-kb-part=preview-text]").inner_text()
    p.page.click("[data-kb-part=insert-link]")
    value = p.page.locator("#reply-form textarea[name=body]").input_value()
    assert value == f"退款到账时间 {p.base}/p/ACME/kb/a/{a.pk}/"
    p.clean()


def test_customer_search_and_read_on_a_phone(open_page: Any, tenant_a: Tenant) -> None:
    article(tenant_a.client, "宽带无法上网怎么办", "请先重启光猫。")
    services.synonym_group_save(actor=None, client=tenant_a.client, terms=["光猫", "调制解调器"])
    p = open_page()
    p.page.set_viewport_size({"width": 390, "height": 800})
    p.page.goto(f"{p.base}/p/ACME/kb/")
    # Suggestions appear as the customer types (the script a request form includes).
    p.page.locator("#kb-public-search input[name=q]").press_sequentially("调制解调器上不了网")
    p.page.locator(".kb-suggest a", has_text="宽带无法上网怎么办").click()
    assert "请先重启光猫" in p.page.locator("#kb-article").inner_text()
    assert ArticleView.objects.get().source == "suggest"
    p.page.get_by_role("button", name="有帮助 / Yes").click()
    assert "谢谢您的反馈" in p.page.content()
    width = p.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    p.clean()
