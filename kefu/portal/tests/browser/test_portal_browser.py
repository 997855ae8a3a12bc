"""The portal in a real browser (Debian's Chromium through Playwright) at a phone's width,
against kefu as ``kefu serve`` runs it: a customer signs in with a code from the console
SMS outbox, submits an urgent request with a picture, sees it; an agent replies on kefu's
ticket page; the customer reads the reply (under the service's name, not the agent's) and
answers."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import ViewportSize

from kefu.conftest import Tenant, run_tasks
from kefu.core.tests import test_browser
from kefu.portal.tests.conftest import make_site
from kefu.portal.tests.test_pages import PNG
from kefu.tickets.models import Direction, Priority, Ticket

pytestmark = test_browser.pytestmark
browser = test_browser.browser
kefu_server = test_browser.kefu_server
open_page = test_browser.open_page

PHONE: ViewportSize = {"width": 390, "height": 844}


def _code(outbox: Path) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        run_tasks("send_sms")
        if outbox.exists():
            found = re.findall(r"验证码为(\d{6})", outbox.read_text(encoding="utf-8"))
            if found:
                return found[-1]
        time.sleep(0.1)
    raise AssertionError("no code in the SMS outbox")


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at a 390px viewport"


def test_customer_signs_in_submits_urgent_and_talks_with_an_agent(
    open_page: Any, tenant_a: Tenant, sms_outbox: Path, tmp_path: Path
) -> None:
    make_site(tenant_a)
    tenant_a.agent.display_name = "张伟明"
    tenant_a.agent.save()
    picture = tmp_path / "光猫指示灯.png"
    picture.write_bytes(PNG)

    c = open_page()
    page = c.page
    page.set_viewport_size(PHONE)
    page.goto(c.base + "/p/ACME/")
    assert page.locator("#portal-name").inner_text() == "甲方A服务中心"
    _fits(page)
    page.fill("#sms-form input[name=phone]", "13800138000")
    page.click("#sms-form button[type=submit]")
    page.wait_for_url("**/p/ACME/login/code/")
    page.fill("#code-form input[name=code]", _code(sms_outbox))
    page.click("#code-form button[type=submit]")
    page.wait_for_url("**/p/ACME/tickets/")
    assert tenant_a.ticket.number in page.locator("#ticket-list").inner_text()
    _fits(page)

    page.click("#new-request")
    page.select_option("#id_kind", "fault")
    page.fill("#id_description", "宽带断网\n从早上开始完全无法上网，光猫红灯闪烁。")
    page.check("#id_urgent")
    page.fill("#id_urgent_reason", "今天下午要远程开会")
    page.set_input_files("#id_attachments", str(picture))
    _fits(page)
    page.click("#request-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/p/ACME/tickets/KF-[\d-]+/$"))
    ticket = Ticket.objects.get(channel="portal")
    assert ticket.priority == Priority.URGENT
    assert page.locator("#urgent-badge").is_visible()
    assert "光猫指示灯.png" in page.locator("#conversation").inner_text()
    _fits(page)
    page.click("text=我的工单 / My requests")
    assert ticket.number in page.locator("#ticket-list").inner_text()

    agent = open_page()
    agent.login(tenant_a.agent.username)
    agent.page.goto(f"{agent.base}/tickets/{ticket.pk}/")
    agent.page.fill("#reply-form textarea[name=body]", "工程师已出发，约一小时到场。")
    agent.page.click("#reply-form button[type=submit]")
    agent.page.wait_for_load_state()
    assert "工程师已出发" in agent.page.locator(".conversation").inner_text()

    page.goto(f"{c.base}/p/ACME/tickets/{ticket.number}/")
    conversation = page.locator("#conversation").inner_text()
    assert "工程师已出发，约一小时到场。" in conversation
    assert "客服 / Service agent" in conversation and "张伟明" not in conversation
    page.fill("#reply-form textarea[name=body]", "好的，我在家等。")
    page.click("#reply-form button[type=submit]")
    page.wait_for_load_state()
    assert "好的，我在家等。" in page.locator("#conversation").inner_text()
    last = ticket.messages.order_by("created_at", "id").last()
    assert last is not None and last.direction == Direction.INBOUND
    assert last.body_text == "好的，我在家等。"
    _fits(page)
    c.clean()
    agent.clean()
