"""Live pages in a real browser (Debian's Chromium), against kefu served as ``kefu serve``
serves it (the fixtures of kefu/core/tests/test_browser.py): two agents on one ticket, and
a queue page that shows a ticket created through the API without a reload."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from kefu.accounts.models import TokenScope
from kefu.accounts.services import api_token_create
from kefu.conftest import Tenant, _user
from kefu.core.tests import test_browser
from kefu.tickets import services, tasks

pytestmark = test_browser.pytestmark
browser = test_browser.browser
kefu_server = test_browser.kefu_server
open_page = test_browser.open_page


def _mark(page: Any) -> None:
    """A value that only survives if the page is never reloaded."""
    page.evaluate("window.kefuNotReloaded = true")


def _not_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.kefuNotReloaded === true"))


def test_second_agent_sees_the_first_typing_and_replying(open_page: Any, tenant_a: Tenant) -> None:
    second = _user("acme_agent2", "agent", display_name="张三")
    second.clients.add(tenant_a.client)
    url = f"/tickets/{tenant_a.ticket.pk}/"
    p1, p2 = open_page(), open_page()
    p1.login(tenant_a.agent.username)
    p2.login(second.username)
    p1.page.goto(p1.base + url)
    p2.page.goto(p2.base + url)
    for p in (p1, p2):
        p.page.locator("#ticket-live[data-connected]").wait_for(state="attached")
    _mark(p2.page)
    # Each sees the other on the ticket.
    p1.page.locator("#presence", has_text="张三").wait_for(timeout=5000)
    p2.page.locator("#presence", has_text=tenant_a.agent.username).wait_for(timeout=5000)

    warning = p2.page.locator("#reply-warning")
    assert warning.is_hidden()
    p1.page.fill("#reply-form textarea[name=body]", "师傅明天上午九点上门检修。")
    warning.wait_for(state="visible", timeout=5000)
    assert warning.inner_text() == f"{tenant_a.agent.username} 正在回复"

    # The second agent starts a reply of their own; the first sends theirs.
    p2.page.fill("#reply-form textarea[name=body]", "我来跟进")
    p1.page.click("#reply-form button[type=submit]")
    p2.page.locator(".conversation", has_text="师傅明天上午九点上门检修。").wait_for(timeout=5000)
    assert _not_reloaded(p2.page)
    # Before a second reply goes out, the second agent is told the first has replied.
    p2.page.locator("#reply-warning", has_text="刚刚回复了").wait_for(timeout=5000)
    assert warning.inner_text() == f"{tenant_a.agent.username} 刚刚回复了"
    assert p2.page.locator("#reply-form textarea[name=body]").input_value() == "我来跟进"
    p1.clean()
    p2.clean()


def test_ticket_created_through_the_api_appears_in_an_open_queue(
    open_page: Any, tenant_a: Tenant
) -> None:
    _token, raw = api_token_create(user=tenant_a.agent, name="crm", scope=TokenScope.WRITE)
    p = open_page()
    p.login(tenant_a.agent.username)
    assert p.page.locator("h1").inner_text() == "工单队列"
    _mark(p.page)
    p.page.locator("#queue-results[data-connected]").wait_for(state="attached")
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        p.base + "/api/v1/tickets",
        data=json.dumps(
            {"client": tenant_a.client.code, "subject": "发票抬头需要修改", "body": "请修改"}
        ).encode(),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 201
    p.page.locator("#queue-results", has_text="发票抬头需要修改").wait_for(timeout=5000)
    assert _not_reloaded(p.page)
    p.clean()


def test_an_assignment_shows_in_the_queue_and_rings_the_bell(
    open_page: Any, tenant_a: Tenant
) -> None:
    p = open_page()
    p.login(tenant_a.agent.username)
    p.page.locator("#bell[data-connected]").wait_for(state="attached")
    assert p.page.locator("#bell-count").is_hidden()
    services.ticket_assign(
        ticket=tenant_a.ticket, actor=tenant_a.supervisor, assignee=tenant_a.agent
    )
    # The open queue shows the change to the ticket; the bell rings.
    p.page.locator("#queue-results td", has_text=tenant_a.agent.username).wait_for(timeout=5000)
    tasks.notify_user.call(tenant_a.agent.pk, "assigned", tenant_a.ticket.pk)
    p.page.locator("#bell-count", has_text="1").wait_for(timeout=5000)
    latest = p.page.locator("#bell-latest a")
    assert tenant_a.ticket.number in latest.inner_text()
    # The bell's drop-down lists it; choosing it opens the ticket and marks it read.
    p.page.click("#bell")
    choice = p.page.locator("#bell-panel #bell-list button", has_text=tenant_a.ticket.number)
    choice.click()
    p.page.wait_for_url(f"**/tickets/{tenant_a.ticket.pk}/")
    p.page.locator("#bell[data-connected]").wait_for(state="attached")
    assert p.page.locator("#bell-count").is_hidden()
    services.ticket_assign(ticket=tenant_a.ticket, actor=tenant_a.supervisor, assignee=None)
    services.ticket_assign(
        ticket=tenant_a.ticket, actor=tenant_a.supervisor, assignee=tenant_a.agent
    )
    tasks.notify_user.call(tenant_a.agent.pk, "assigned", tenant_a.ticket.pk)
    p.page.locator("#bell-count", has_text="1").wait_for(timeout=5000)
    p.page.goto(p.base + "/account/notifications/")
    assert tenant_a.ticket.number in p.page.locator("#notification-list").inner_text()
    p.page.click("#read-all")
    p.page.wait_for_load_state()
    assert "未读" not in p.page.locator("#notification-list").inner_text()
    p.clean()


def test_a_views_count_changes_without_a_reload(open_page: Any, tenant_a: Tenant) -> None:
    """ "未分派 (n)" on an open queue page counts a new ticket and drops it once assigned."""
    p = open_page()
    p.login(tenant_a.agent.username)
    p.page.goto(p.base + "/tickets/")
    p.page.locator("#queue-results[data-connected]").wait_for(state="attached")
    _mark(p.page)
    count = p.page.locator('[data-count="unassigned"]')
    before = int(count.inner_text())
    ticket = services.ticket_create(
        client=tenant_a.client, subject="新的未分派工单", body="x", channel="email"
    )
    p.page.locator('[data-count="unassigned"]', has_text=str(before + 1)).wait_for(timeout=5000)
    services.ticket_assign(ticket=ticket, actor=tenant_a.supervisor, assignee=tenant_a.agent)
    p.page.locator('[data-count="unassigned"]', has_text=str(before)).wait_for(timeout=5000)
    assert _not_reloaded(p.page)
    p.clean()


def test_bulk_assign_of_fifty_tickets(open_page: Any, tenant_a: Tenant) -> None:
    """A supervisor ticks a page of the queue and assigns all of it to one agent."""
    from kefu.tickets.models import Ticket

    made = [
        services.ticket_create(
            client=tenant_a.client, subject=f"批量分派{i}", body="x", channel="email"
        )
        for i in range(50)
    ]
    p = open_page()
    p.login(tenant_a.supervisor.username)
    p.page.goto(p.base + "/tickets/?assignee=none&status=active")
    assert p.page.locator("#bulk-form").is_hidden()
    p.page.check("#pick-all")
    assert "已选 50 张" in p.page.locator("#bulk-count").inner_text()
    p.page.select_option("#bulk-form select[name=assignee]", str(tenant_a.agent.pk))
    p.page.click("#bulk-form button[type=submit]")
    p.page.locator(".messages", has_text="已批量修改 50 张工单").wait_for(timeout=30_000)
    assigned = Ticket.objects.filter(pk__in=[t.pk for t in made], assignee=tenant_a.agent)
    assert assigned.count() == 50
    p.clean()
