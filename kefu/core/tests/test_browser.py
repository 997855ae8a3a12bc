"""The workspace in a real browser: Debian's Chromium driven by Playwright, against what
``kefu serve`` runs (``kefu.asgi``'s handler under uvicorn, in a thread of this process).

Playwright's sync API runs its own event loop in this thread, and Django refuses database
access from a thread with a running loop unless told it is safe; the test's own database
calls are plain synchronous ones, so it is."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kefu.conftest import PASSWORD, Tenant

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
BROWSER = os.environ.get("KEFU_BROWSER", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(BROWSER), reason=f"no Chromium at {BROWSER} (apt-get install chromium)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=BROWSER,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


class Page:
    """A logged-in page that records JavaScript errors and requests leaving the server."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("request", self._request)
        self.page.on("response", lambda r: self.failed.append(r.url) if r.status >= 400 else None)

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:")):
            self.foreign.append(request.url)

    def login(self, username: str) -> None:
        self.page.goto(self.base + "/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def clean(self) -> None:
        assert self.errors == [] and self.foreign == [], (self.errors, self.foreign)


@pytest.fixture
def kefu_server() -> Iterator[str]:
    """kefu's ASGI application served by uvicorn on 127.0.0.1, as ``kefu serve`` serves it
    (static files from WhiteNoise, requests on the handler's reused threads, WebSockets
    through Channels); the base URL."""
    import uvicorn

    from kefu.asgi import KefuASGIHandler, build_application

    app = KefuASGIHandler(keep_idle_threads=4)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        build_application(app), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    app.close()
    listener.close()


@pytest.fixture
def open_page(browser: Any, kefu_server: str) -> Iterator[Any]:
    pages: list[Page] = []

    def make() -> Page:
        page = Page(browser, kefu_server)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()


def test_agent_replies_and_changes_status(
    open_page: Any, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    p = open_page()
    p.login(tenant_a.agent.username)
    page = p.page
    assert page.locator("h1").inner_text() == "工单队列"
    page.get_by_role("link", name=tenant_a.ticket.subject).click()
    page.wait_for_load_state()
    assert "家里的空调从昨天开始不制冷了" in page.locator(".conversation").inner_text()
    page.fill("#reply-form textarea[name=body]", "师傅明天上午九点上门检修。")
    page.click("#reply-form button[type=submit]")
    page.wait_for_load_state()
    assert "师傅明天上午九点上门检修。" in page.locator(".conversation").inner_text()
    page.select_option("#status-form select[name=status]", "pending")
    page.click("#status-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#ticket-status").inner_text() == "等待客户"
    assert p.failed == []
    p.clean()


def test_auditor_reads_own_client_only(open_page: Any, tenant_a: Tenant, tenant_b: Tenant) -> None:
    p = open_page()
    p.login(tenant_a.auditor.username)
    page = p.page
    page.select_option("select[name=status]", "")
    page.wait_for_load_state("networkidle")
    queue = page.locator("#queue-results").inner_text()
    assert tenant_a.ticket.subject in queue and tenant_b.ticket.subject not in queue
    page.get_by_role("link", name=tenant_a.ticket.subject).click()
    page.wait_for_load_state()
    assert page.locator("#reply-form").count() == 0
    assert page.locator("#status-form").count() == 0
    assert "只读：您的角色可查看，不能修改。" in page.content()
    response = page.goto(f"{p.base}/tickets/{tenant_b.ticket.pk}/")
    assert response is not None and response.status == 404
    p.errors.clear()  # the 404 page itself is reported as a failed resource
    p.clean()


def test_filters_update_the_queue_in_place(open_page: Any, tenant_a: Tenant) -> None:
    p = open_page()
    p.login(tenant_a.supervisor.username)
    page = p.page
    page.evaluate("window.__marker = 1")
    page.select_option("select[name=status]", "resolved")
    page.wait_for_url("**status=resolved**")
    assert "没有符合条件的工单" in page.locator("#queue-results").inner_text()
    assert page.evaluate("window.__marker") == 1  # no full page load
    page.select_option("select[name=status]", "open")
    page.wait_for_url("**status=open**")
    assert tenant_a.ticket.subject in page.locator("#queue-results").inner_text()
    p.clean()


def test_department_answers_escalation(open_page: Any, tenant_a: Tenant) -> None:
    p = open_page()
    p.login(tenant_a.department_user.username)
    page = p.page
    assert tenant_a.ticket.number in page.locator("table").inner_text()
    page.get_by_role("link", name=tenant_a.ticket.number).click()
    page.wait_for_load_state()
    page.fill("#answer-form textarea[name=answer]", "已安排售后工程师明日上门。")
    page.set_input_files(
        "#answer-form input[type=file]",
        files=[
            {"name": "派工单.txt", "mimeType": "text/plain", "buffer": "工程师：李师傅".encode()}
        ],
    )
    page.click("#answer-form button[value=answer]")
    page.wait_for_load_state()
    assert "已安排售后工程师明日上门。" in page.content()
    p.clean()

    agent = open_page()
    agent.login(tenant_a.agent.username)
    agent.page.goto(f"{agent.base}/tickets/{tenant_a.ticket.pk}/")
    assert "已安排售后工程师明日上门。" in agent.page.locator(".conversation").inner_text()
    assert "派工单.txt" in agent.page.locator(".conversation").inner_text()
    agent.clean()


def test_department_asks_for_information_then_returns(open_page: Any, tenant_a: Tenant) -> None:
    dept = open_page()
    dept.login(tenant_a.department_user.username)
    url = f"{dept.base}/tickets/{tenant_a.ticket.pk}/"
    dept.page.goto(url)
    dept.page.fill("#answer-form textarea[name=answer]", "请提供购买凭证")
    dept.page.click("#ask-info")
    assert "承诺时间不变" in dept.page.locator(".messages").inner_text()
    assert "待补充信息" in dept.page.locator("#escalations").inner_text()

    agent = open_page()
    agent.login(tenant_a.agent.username)
    agent.page.goto(url)
    agent.page.fill("#info-form textarea[name=info]", "凭证：京东订单 2025-06-18")
    agent.page.click("#info-form button")
    assert "补充信息已发给甲方部门" in agent.page.locator(".messages").inner_text()

    dept.page.goto(url)
    assert "京东订单" in dept.page.locator(".conversation").inner_text()
    dept.page.fill("#answer-form textarea[name=answer]", "该机型由安装部门负责，请转交")
    dept.page.click("#return-escalation")
    assert "已退回升级" in dept.page.locator(".messages").inner_text()
    escalations = dept.page.locator("#escalations").inner_text()
    assert "已退回" in escalations and "该机型由安装部门负责" in escalations
    assert dept.page.locator("#answer-form").count() == 0
    dept.clean()
    agent.clean()


def test_language_switch_to_english(open_page: Any, tenant_a: Tenant) -> None:
    p = open_page()
    p.login(tenant_a.agent.username)
    page = p.page
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(p.base + "/tickets/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Ticket queue"
    p.clean()


# Recorded by a script Playwright adds before any of the page's own (so the page's
# Content-Security-Policy does not apply to it): every CSP violation the browser reports.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _pages_for(role: str, t: Tenant) -> list[str]:
    ticket = f"/tickets/{t.ticket.pk}/"
    dashboard = f"/reports/dashboard/{t.client.code}/"
    return {
        "agent": ["/tickets/", ticket, "/tickets/new/", "/account/tokens/"],
        "supervisor": [
            "/tickets/",
            ticket,
            "/tickets/overview/",
            "/tickets/escalations/",
            "/sla/",
            "/reports/",
            dashboard,
            "/account/tokens/",
            f"/tickets/customers/{t.customer.pk}/merge/?other=wang@{t.client.code}.cn",
        ],
        "auditor": ["/tickets/", ticket, "/tickets/overview/", "/reports/", dashboard],
        "department_user": ["/tickets/escalations/", ticket],
    }[role]


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor", "department_user"])
def test_main_pages_break_no_content_security_policy(
    open_page: Any, tenant_a: Tenant, role: str
) -> None:
    p = open_page()
    p.context.add_init_script(CSP_LISTENER)
    p.login(getattr(tenant_a, role).username)
    for url in _pages_for(role, tenant_a):
        response = p.page.goto(p.base + url)
        assert response is not None and response.status == 200, url
        p.page.wait_for_load_state("networkidle")
        assert p.page.evaluate("window.__csp") == [], url
        refused = [e for e in p.errors if "Refused to" in e or "Content Security Policy" in e]
        assert refused == [], url
    assert p.failed == []
    p.clean()


def test_agent_reveals_a_phone_number_with_a_reason(open_page: Any, tenant_a: Tenant) -> None:
    """The number shows masked; the agent opens 查看明文, gives a reason and sees it in place
    (HTMX), and the reveal is in the audit log."""
    from kefu.core.models import AuditEvent

    p = open_page()
    p.login(tenant_a.agent.username)
    page = p.page
    page.goto(f"{p.base}/tickets/{tenant_a.ticket.pk}/")
    card = page.locator("#customer-card")
    assert "138****8000" in card.inner_text() and "13800138000" not in page.content()
    assert card.locator("#reveal-emails details").count() == 0  # agents may not reveal emails
    phones = card.locator("#reveal-phones")
    phones.locator("summary").click()
    phones.locator("input[name=reason]").fill("客户要求回电")
    phones.locator("button[type=submit]").click()
    page.locator("#reveal-phones .revealed").wait_for()
    assert phones.locator(".revealed").inner_text() == "13800138000"
    assert page.url.endswith(f"/tickets/{tenant_a.ticket.pk}/")  # in place, no navigation
    event = AuditEvent.objects.get(action="reveal")
    assert event.actor == tenant_a.agent and event.reason == "客户要求回电"
    p.clean()


def test_new_ticket_warns_about_the_customers_open_tickets(
    open_page: Any, tenant_a: Tenant
) -> None:
    """Typing a known customer's number on the new-ticket form shows their open tickets
    (HTMX, before creating); the ticket created lists them beside the conversation."""
    p = open_page()
    p.login(tenant_a.agent.username)
    page = p.page
    page.goto(f"{p.base}/tickets/new/")
    page.select_option("select[name=client]", str(tenant_a.client.pk))
    page.fill("input[name=subject]", "空调又坏了")
    page.fill("textarea[name=body]", "还是不制冷")
    page.fill("input[name=customer_phone]", "138 0013 8000")
    page.press("input[name=customer_phone]", "Tab")
    warning = page.locator("#open-tickets-found")
    warning.wait_for()
    assert "该客户还有 1 张未解决的工单" in warning.inner_text()
    assert tenant_a.ticket.number in warning.inner_text()
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()
    assert "该客户还有 1 张未解决的工单" in page.locator(".messages").inner_text()
    panel = page.locator("#customer-other-tickets").inner_text()
    assert tenant_a.ticket.number in panel and "邮件" in panel
    assert p.failed == []
    p.clean()


def test_api_docs_render(open_page: Any, tenant_a: Tenant) -> None:
    """/api/v1/docs lists the operations from kefu's own files (no CDN), with no error."""
    p = open_page()
    p.login(tenant_a.agent.username)
    response = p.page.goto(p.base + "/api/v1/docs")
    assert response is not None and response.status == 200
    p.page.wait_for_selector(".opblock-tag", timeout=15_000)
    assert p.page.locator(".opblock").count() >= 10
    assert "duplicated mapping key" not in p.page.content()
    p.clean()


def test_error_page_in_kefus_layout_fits_a_phone(open_page: Any, tenant_a: Tenant) -> None:
    p = open_page()
    p.page.set_viewport_size({"width": 390, "height": 800})
    p.login(tenant_a.agent.username)
    response = p.page.goto(p.base + "/tickets/999999999/")
    assert response is not None and response.status == 404
    assert "页面不存在 / Page not found" in p.page.locator("h1").inner_text()
    assert p.page.locator("header.topbar").count() == 1
    width = p.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    p.errors = [e for e in p.errors if "404" not in e]  # the browser logs the page's status
    p.clean()


PHONE_PAGES = {
    "agent": ["/tickets/", "{ticket}", "/tickets/new/", "/chat/console/"],
    "supervisor": [
        "/tickets/",
        "{ticket}",
        "/tickets/overview/",
        "{dashboard}",
        "/reports/",
        "/kb/",
        "/surveys/callbacks/",
    ],
}


@pytest.mark.parametrize("role", sorted(PHONE_PAGES))
def test_main_pages_fit_a_phone(open_page: Any, tenant_a: Tenant, role: str) -> None:
    """At 390 px nothing scrolls sideways: the menu wraps whole words and tables give up
    columns, so the queue's header cells stay over their data."""
    p = open_page()
    p.page.set_viewport_size({"width": 390, "height": 844})
    p.login(getattr(tenant_a, role).username)
    shots = os.environ.get("KEFU_SCREENSHOTS")
    for url in PHONE_PAGES[role]:
        url = url.format(
            ticket=f"/tickets/{tenant_a.ticket.pk}/",
            dashboard=f"/reports/dashboard/{tenant_a.client.code}/",
        )
        response = p.page.goto(p.base + url)
        assert response is not None and response.status == 200, url
        if shots:
            name = url.strip("/").replace("/", "_") or "home"
            p.page.screenshot(path=f"{shots}/{role}-{name}.png", full_page=True)
        width = p.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
        lines = p.page.evaluate(
            "Math.max(...[...document.querySelectorAll('.topbar nav a')]"
            ".map(a => Math.round(a.getBoundingClientRect().height)))"
        )
        assert lines < 40, (url, "a menu item wraps inside itself", lines)
    p.clean()


def test_auditor_disputes_then_signs_off_with_a_comment(open_page: Any, tenant_a: Tenant) -> None:
    from kefu.reports.models import ServiceReport
    from kefu.reports.services import report_issue

    report = report_issue(client=tenant_a.client, month_label="2026-10", actor=None)
    url = f"/reports/issued/{report.pk}/"
    auditor = open_page()
    auditor.login(tenant_a.auditor.username)
    auditor.page.goto(auditor.base + url)
    auditor.page.click("#dispute summary")
    auditor.page.fill("#dispute-form textarea[name=reason]", "十月投诉量比我方台账多 2 件")
    auditor.page.click("#dispute-form button")
    assert "异议已提交" in auditor.page.locator(".messages").inner_text()
    assert "待乙方答复" in auditor.page.locator("#review-state").inner_text()

    supervisor = open_page()
    supervisor.login(tenant_a.supervisor.username)
    supervisor.page.goto(supervisor.base + url)
    supervisor.page.fill(".dispute-answer textarea", "其中 2 件为同一客户的重复来电")
    supervisor.page.click(".dispute-answer button")
    assert "其中 2 件为同一客户的重复来电" in supervisor.page.locator("#reviews").inner_text()

    auditor.page.reload()
    auditor.page.click("#sign-off summary")
    auditor.page.fill("#sign-off-form textarea[name=comment]", "答复已接受")
    auditor.page.click("#sign-off-form button")  # the box is not ticked: the browser stops it
    assert ServiceReport.objects.get(pk=report.pk).signed_off_at is None
    auditor.page.check("#sign-off-form input[name=checked]")
    auditor.page.click("#sign-off-form button")
    assert "已记入审计日志" in auditor.page.locator(".messages").inner_text()
    assert "甲方已确认" in auditor.page.locator("#review-state").inner_text()
    assert "答复已接受" in auditor.page.locator("#reviews").inner_text()
    if shots := os.environ.get("KEFU_SCREENSHOTS"):
        auditor.page.set_viewport_size({"width": 390, "height": 844})
        auditor.page.screenshot(path=f"{shots}/report-review.png", full_page=True)
    assert ServiceReport.objects.get(pk=report.pk).signed_off_by_id == tenant_a.auditor.pk
    auditor.clean()
    supervisor.clean()
