"""The portal in a real browser (Debian's Chromium through Playwright) at a phone's width,
against kefu as ``kefu serve`` runs it: a customer signs in with a code from the console
SMS outbox, submits an urgent request with a picture, sees it; an agent replies on kefu's
ticket page; the customer reads the reply (under the service's name, not the agent's),
answers, and once the ticket is resolved rates it on the portal; another customer's ticket is
not there for them."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone
from playwright.sync_api import ViewportSize

from kefu.conftest import Tenant, run_tasks
from kefu.core.tests import test_browser
from kefu.portal.tests.conftest import make_site
from kefu.portal.tests.test_pages import PNG
from kefu.surveys.models import Survey, SurveyRule
from kefu.surveys.services import survey_dispatch_due
from kefu.tickets import services as tickets
from kefu.tickets.models import Direction, Priority, Status, Ticket

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
    open_page: Any, tenant_a: Tenant, sms_outbox: Path, tmp_path: Path, rule: SurveyRule
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

    # Resolved, the survey is published on the portal after the contract's delay: rate it.
    tickets.ticket_set_status(ticket=ticket, actor=tenant_a.agent, status=Status.RESOLVED)
    survey_dispatch_due(now=timezone.now() + timedelta(minutes=rule.delay_minutes + 1))
    run_tasks("survey_send_task")
    page.goto(f"{c.base}/p/ACME/tickets/{ticket.number}/")
    page.click("#survey-link")
    page.check("input[name=score][value='5']")
    page.fill("#comment", "工程师很准时")
    _fits(page)
    page.click("#survey-form button[type=submit]")
    page.locator("#survey-thanks").wait_for(timeout=10_000)
    answered = Survey.objects.get(ticket=ticket)
    assert (answered.channel, answered.score, answered.comment) == ("portal", 5, "工程师很准时")

    # Another customer's ticket, by its number: the same page as a number that does not exist.
    other = tickets.ticket_create(
        client=tenant_a.client,
        subject="别人的宽带报修",
        body="x",
        channel="phone",
        customer=tickets.CustomerData(name="李四", phone="13900139000"),
    )
    theirs = page.goto(f"{c.base}/p/ACME/tickets/{other.number}/")
    missing = page.content()
    assert theirs is not None and theirs.status == 404
    assert "别人的宽带报修" not in missing and "李四" not in missing
    none = page.goto(f"{c.base}/p/ACME/tickets/KF-2099-999999/")
    assert none is not None and none.status == 404 and page.content() == missing
    c.errors = [e for e in c.errors if "404" not in e]  # the browser logs the pages' status
    c.clean()
    agent.clean()
