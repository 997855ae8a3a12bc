"""The widget in a real browser (Debian's Chromium through Playwright), on a client's page
served from another origin than kefu, against kefu served as ``kefu serve`` serves it (the
fixtures of kefu/core/tests/test_browser.py): the customer opens the chat, accepts the
privacy notice and writes; an agent accepts and replies; the WebSocket is cut twice
(once losing kefu's frames, once the widget's) and the page is reloaded, and the chat
goes on with nothing lost or doubled; the customer rates; the ticket holds the whole
transcript and the survey.

The agent works either through the agent console page (/chat/console/, its
``data-kefu-console`` attributes) or, where a test is about the widget alone, over the
agent socket directly (kefu/chat/tests/browser/agent.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from playwright.sync_api import ViewportSize, expect

from kefu.chat.models import ChatWidget, Conversation, ConversationStatus
from kefu.chat.services import widget_create
from kefu.chat.tests.browser.agent import AgentSocket
from kefu.chat.tests.browser.customer import Customer, eventually, png
from kefu.chat.tests.browser.host import client_site
from kefu.conftest import PASSWORD, Tenant
from kefu.core.tests import test_browser
from kefu.core.tests.sockets import session_cookie
from kefu.sla.tests.conftest import sh
from kefu.tickets.models import Delivery, DeliveryStatus, Direction, Message

pytestmark = test_browser.pytestmark
browser = test_browser.browser
kefu_server = test_browser.kefu_server

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def site(kefu_server: str) -> Iterator[str]:
    with client_site(kefu_server) as origin:
        yield origin


@pytest.fixture
def widget(tenant_a: Tenant, site: str) -> ChatWidget:
    return widget_create(client=tenant_a.client, origins=[site], name="官网")


class Agent(Protocol):
    def online(self) -> None: ...
    def accept(self) -> int: ...
    def reply(self, text: str) -> None: ...
    def sees(self, text: str) -> None: ...
    def close(self) -> None: ...


class SocketAgent:
    """The agent over ``ws/chat/agent/`` (the protocol the console page speaks)."""

    def __init__(self, base: str, tenant: Tenant, customer: Customer) -> None:
        self.socket = AgentSocket(base, session_cookie(tenant.agent), idle=customer.idle)
        self.socket.until("state")
        self.conversation = 0
        self.n = 0

    def online(self) -> None:
        self.socket.send(type="presence", state="online")
        self.socket.until("presence")

    def accept(self) -> int:
        offer = self.socket.until("offer")
        self.conversation = offer["conversation"]
        self.socket.send(type="accept", conversation=self.conversation)
        self.socket.until("conversation")
        return self.conversation

    def reply(self, text: str) -> None:
        self.n += 1
        self.socket.send(
            type="message", conversation=self.conversation, cid=f"agent-{self.n}", text=text
        )
        self.socket.until("ack")

    def sees(self, text: str) -> None:
        self.socket.until("message", lambda f: f["message"]["text"] == text)

    def close(self) -> None:
        self.socket.close()


class ConsoleAgent:
    """The agent in a second browser context, on the agent console page."""

    def __init__(self, browser: Any, base: str, tenant: Tenant) -> None:
        self.context = browser.new_context(locale="zh-CN")
        self.page = self.context.new_page()
        self.page.goto(base + "/login/")
        self.page.fill("input[name=username]", tenant.agent.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        response = self.page.goto(base + "/chat/console/")
        if response is None or response.status == 404:
            self.context.close()
            pytest.skip("no agent console at /chat/console/ on this tree yet (branch console)")
        self.chat = self.page.locator('[data-kefu-console="chat"]')

    def part(self, name: str) -> Any:
        return self.page.locator(f'[data-kefu-console="{name}"]')

    def online(self) -> None:
        self.part("presence").select_option("online")

    def accept(self) -> int:
        offer = self.part("offer").first
        offer.wait_for(timeout=15000)
        offer.locator('[data-kefu-console="accept"]').click()
        self.chat.first.wait_for()
        return int(self.chat.first.get_attribute("data-conversation") or 0)

    def reply(self, text: str) -> None:
        self.chat.locator('[data-kefu-console="input"]').fill(text)
        self.chat.locator('[data-kefu-console="send"]').click()

    def sees(self, text: str) -> None:
        messages = self.chat.locator('[data-kefu-console="messages"] [data-kefu-from="customer"]')
        messages.filter(has_text=text).first.wait_for(timeout=10000)

    def close(self) -> None:
        self.context.close()


def _customer_texts(conversation_id: int) -> list[str]:
    return list(
        Message.objects.filter(
            ticket__conversations__pk=conversation_id, direction=Direction.INBOUND
        )
        .order_by("created_at", "pk")
        .values_list("body_text", flat=True)
    )


def _chat_through_drops_and_rate(customer: Customer, agent: Agent) -> None:
    """Done-when #1 of issue 14, from either agent's side."""
    m1, m2, m3 = "你好，我的订单还没发货", "物流单号是多少？", "好的，谢谢！"
    r1, r2 = "您好，我来帮您查一下", "单号是 SF1234567890"

    agent.online()
    customer.start("李女士", "13900139000")
    conversation_id = agent.accept()
    customer.part("status").filter(has_text="客服").wait_for()
    customer.write(m1)
    agent.sees(m1)
    agent.reply(r1)
    customer.messages("agent").filter(has_text=r1).wait_for()

    # Cut 1: kefu's frames are lost. The customer's message reaches kefu but its ack does
    # not; the agent's reply does not reach the page. After the reconnect the replay
    # brings both, each shown once, and the reply is acknowledged then.
    customer.hold_down = True
    customer.write(m2)
    eventually(lambda: m2 in _customer_texts(conversation_id), customer.page)
    agent.sees(m2)
    agent.reply(r2)
    opened = customer.cut()
    customer.hold_down = False
    customer.wait_reconnected(opened)
    customer.messages("agent").filter(has_text=r2).wait_for()
    expect(customer.messages("customer")).to_have_count(2)
    reply = Message.objects.get(body_text=r2)
    eventually(
        lambda: Delivery.objects.get(message=reply).status == DeliveryStatus.SENT, customer.page
    )

    # Cut 2: the widget's frames are lost. The message never reaches kefu; the widget
    # keeps it and sends it again, with the same client id, on the next connection.
    customer.hold_up = True
    customer.write(m3)
    customer.messages("customer").filter(has_text=m3).wait_for()
    opened = customer.cut()
    customer.hold_up = False
    customer.wait_reconnected(opened)
    agent.sees(m3)
    sent = customer.messages("customer").filter(has_text=m3)
    expect(sent).to_have_attribute("data-state", "sent")

    # A reload of the client's page picks the chat up from localStorage.
    customer.page.reload()
    customer.messages("agent").filter(has_text=r2).wait_for()
    assert customer.texts("customer") == [m1, m2, m3]
    assert customer.texts("agent") == [r1, r2]
    assert _customer_texts(conversation_id) == [m1, m2, m3]

    customer.part("close").click()
    customer.part("rate-5").click()
    customer.part("comment").fill("回复很快，问题解决了")
    customer.part("comment-send").click()
    customer.part("comment-saved").wait_for()

    conversation = Conversation.objects.select_related("ticket", "survey").get(pk=conversation_id)
    assert conversation.status == ConversationStatus.ENDED and conversation.ended_by == "customer"
    transcript = list(
        Message.objects.filter(ticket=conversation.ticket)
        .exclude(direction=Direction.NOTE)
        .order_by("created_at", "pk")
        .values_list("direction", "body_text")
    )
    assert transcript == [
        (Direction.INBOUND, m1),
        (Direction.OUTBOUND, r1),
        (Direction.INBOUND, m2),
        (Direction.OUTBOUND, r2),
        (Direction.INBOUND, m3),
    ]
    assert conversation.answered_at is not None
    assert set(
        Delivery.objects.filter(ticket=conversation.ticket).values_list("status", flat=True)
    ) == {DeliveryStatus.SENT}
    survey = conversation.survey
    assert survey is not None
    assert (survey.score, survey.comment, survey.channel) == (5, "回复很快，问题解决了", "chat")
    assert survey.ticket_id == conversation.ticket_id
    assert customer.errors == []


def test_a_chat_survives_dropped_connections_and_a_reload_and_is_rated(
    browser: Any, kefu_server: str, tenant_a: Tenant, widget: ChatWidget, site: str
) -> None:
    customer = Customer(browser, site, widget.key)
    agent = SocketAgent(kefu_server, tenant_a, customer)
    try:
        _chat_through_drops_and_rate(customer, agent)
    finally:
        agent.close()
        customer.close()


def test_the_same_chat_with_the_agent_console(
    browser: Any, kefu_server: str, tenant_a: Tenant, widget: ChatWidget, site: str
) -> None:
    agent = ConsoleAgent(browser, kefu_server, tenant_a)
    customer = Customer(browser, site, widget.key)
    try:
        _chat_through_drops_and_rate(customer, agent)
    finally:
        agent.close()
        customer.close()


def test_typing_read_state_and_a_picture_both_ways_on_a_phone(
    browser: Any, kefu_server: str, tenant_a: Tenant, widget: ChatWidget, site: str
) -> None:
    customer = Customer(browser, site, widget.key, viewport=PHONE)
    agent = SocketAgent(kefu_server, tenant_a, customer)
    try:
        agent.online()
        customer.start("王先生")
        conversation_id = agent.accept()
        # On a phone the panel fills the screen.
        box = customer.page.locator('[data-kefu="messages"]').bounding_box()
        assert box is not None and box["width"] == PHONE["width"]

        customer.part("input").fill("空调")
        agent.socket.until("typing", lambda f: f.get("by") == "customer")
        customer.part("send").click()
        agent.sees("空调")
        agent.socket.send(type="typing", conversation=conversation_id)
        customer.part("typing").wait_for()
        assert customer.part("typing").inner_text() == "客服正在输入…"
        agent.reply("请拍一张铭牌的照片")
        expect(customer.part("typing")).to_be_hidden()
        # The agent read the customer's message: the widget says so under it.
        mine = Message.objects.get(body_text="空调")
        agent.socket.send(type="read", conversation=conversation_id, id=mine.pk)
        customer.messages("customer").filter(has_text="空调").locator(
            '[data-kefu="read"]'
        ).wait_for()
        # The widget reported the agent's reply read (the panel is open and visible).
        reply = Message.objects.get(body_text="请拍一张铭牌的照片")
        agent.socket.until("read", lambda f: f.get("by") == "customer" and f["id"] == reply.pk)

        # A picture from the phone: uploaded to kefu from the client's origin (CORS) and
        # shown as a picture on both sides.
        customer.part("file-input").set_input_files(
            {"name": "铭牌.png", "mimeType": "image/png", "buffer": png()}
        )
        frame = agent.socket.until("message", lambda f: bool(f["message"]["attachments"]))
        (attachment,) = frame["message"]["attachments"]
        assert attachment["name"] == "铭牌.png" and attachment["type"] == "image/png"
        picture = customer.messages("customer").locator('img[data-kefu="image"]')
        picture.wait_for()
        eventually(lambda: picture.evaluate("img => img.naturalWidth") == 24, customer.page)
        expect(customer.messages("customer")).to_have_count(2)
        assert customer.errors == []
    finally:
        agent.close()
        customer.close()


def test_out_of_hours_an_english_page_leaves_a_message_and_gets_a_ticket_number(
    browser: Any,
    kefu_server: str,
    sla_tenant: Tenant,
    site: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widget = widget_create(client=sla_tenant.client, origins=[site])
    monkeypatch.setattr("django.utils.timezone.now", lambda: sh(2026, 12, 5, 22, 0))
    customer = Customer(browser, site, widget.key, lang="en")
    try:
        customer.part("launcher").click()
        customer.part("leave-send").wait_for()
        assert "Closed now" in customer.part("status").inner_text()
        assert "Mon" in customer.part("leave-info").inner_text()
        customer.part("name").fill("Mr Zhao")
        customer.part("email").fill("zhao@example.com")
        customer.part("leave-text").fill("Please call me on Monday about the invoice")
        customer.part("leave-send").click()
        assert customer.part("leave-send").is_enabled()  # refused: no consent yet
        customer.part("consent").check()
        customer.part("leave-send").click()
        ticket = customer.part("ticket")
        ticket.wait_for()
        conversation = Conversation.objects.select_related("ticket").get()
        assert conversation.ticket is not None
        assert ticket.inner_text() == f"Ticket number: {conversation.ticket.number}"
        assert "Mon" in customer.part("next-open").inner_text()
        assert conversation.status == ConversationStatus.LEFT_MESSAGE
        assert conversation.ticket.messages.get().body_text == (
            "Please call me on Monday about the invoice"
        )
        assert customer.errors == []
    finally:
        customer.close()


def test_no_agent_in_time_the_customer_adds_contact_details_to_the_same_ticket(
    browser: Any, tenant_a: Tenant, site: str
) -> None:
    widget = widget_create(client=tenant_a.client, origins=[site])
    ChatWidget.objects.filter(pk=widget.pk).update(max_wait_seconds=1)
    customer = Customer(browser, site, widget.key)
    try:
        customer.start("刘女士")
        customer.write("有人吗？")
        # Nobody is online: after the widget's limit the chat becomes a left message.
        customer.part("leave-send").wait_for(timeout=15000)
        conversation = Conversation.objects.select_related("ticket").get()
        assert conversation.ticket is not None
        assert conversation.ticket.number in customer.part("leave-info").inner_text()
        customer.part("phone").fill("13600136000")
        customer.part("leave-text").fill("请明天上午回电")
        customer.part("leave-send").click()
        customer.part("ticket").wait_for()
        texts = list(
            conversation.ticket.messages.order_by("pk").values_list("body_text", flat=True)
        )
        assert texts == ["有人吗？", "请明天上午回电\n\n联系方式: 13600136000"]
        assert customer.errors == []
    finally:
        customer.close()
