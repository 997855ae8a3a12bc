"""The customer's side of the widget's browser tests: a Chromium page of the client's site
(kefu/chat/tests/browser/host.py) with the widget in it, whose WebSocket to kefu runs
through Playwright so that a test can hold frames back and cut the connection, as a
phone losing its network would."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

from playwright.sync_api import Browser, Locator, ViewportSize, WebSocketRoute

WIDGET_SOCKET = re.compile(r"/ws/chat/widget/")


class Customer:
    """A visitor of the client's site. ``hold_down``: frames from kefu are kept back (and
    lost when the connection is cut); ``hold_up``: frames from the widget are dropped."""

    def __init__(
        self,
        browser: Browser,
        site: str,
        key: str,
        *,
        lang: str = "zh-CN",
        viewport: ViewportSize | None = None,
    ) -> None:
        self.context = browser.new_context(
            locale=lang, viewport=viewport or {"width": 1280, "height": 800}
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.sockets: list[WebSocketRoute] = []
        self.hold_down = False
        self.hold_up = False
        self.page.route_web_socket(WIDGET_SOCKET, self._route)
        suffix = "&lang=en" if lang.startswith("en") else ""
        self.url = f"{site}/?key={key}{suffix}"
        self.page.goto(self.url)

    def _route(self, page_side: WebSocketRoute) -> None:
        kefu_side = page_side.connect_to_server()
        self.sockets.append(page_side)

        def up(message: str | bytes) -> None:
            if not self.hold_up:
                kefu_side.send(message)

        def down(message: str | bytes) -> None:
            if not self.hold_down:
                page_side.send(message)

        page_side.on_message(up)
        kefu_side.on_message(down)

    def idle(self) -> None:
        """Let the page's events run (see AgentSocket's ``idle``)."""
        self.page.wait_for_timeout(20)

    def part(self, name: str) -> Locator:
        """The widget's part ``data-kefu=name`` (inside its open shadow root)."""
        return self.page.locator(f'[data-kefu="{name}"]')

    def messages(self, sender: str) -> Locator:
        return self.part("messages").locator(f'[data-kefu-from="{sender}"]')

    def texts(self, sender: str) -> list[str]:
        return [t.strip() for t in self.messages(sender).locator(".bubble").all_inner_texts()]

    def connection(self) -> Locator:
        return self.page.locator(".kefu")

    def start(self, name: str, phone: str = "") -> None:
        self.part("launcher").click()
        self.part("name").fill(name)
        if phone:
            self.part("phone").fill(phone)
        self.part("consent").check()
        self.part("start").click()
        self.part("input").wait_for()

    def write(self, text: str) -> None:
        self.part("input").fill(text)
        self.part("send").click()

    def cut(self) -> int:
        """Close the widget's WebSocket as a dropped network would; returns how many
        sockets the widget had opened, so that a test can wait for the next."""
        opened = len(self.sockets)
        self.sockets[-1].close(code=4000, reason="cut by the test")
        return opened

    def wait_reconnected(self, opened: int, timeout_ms: int = 15000) -> None:
        waited = 0
        while len(self.sockets) <= opened:
            assert waited < timeout_ms, "the widget did not reconnect"
            self.page.wait_for_timeout(100)
            waited += 100
        self.page.locator('.kefu[data-kefu-connection="online"]').wait_for(
            state="attached", timeout=timeout_ms
        )

    def close(self) -> None:
        self.context.close()


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (220, 60, 40)) -> bytes:
    """A real (decodable) PNG picture of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def eventually(check: Any, page: Any, timeout_ms: int = 10000) -> Any:
    """``check()`` once it is truthy (the server's side of what the page shows commits on
    its own thread), polled while Playwright keeps the page's events flowing."""
    waited = 0
    while True:
        value = check()
        if value:
            return value
        assert waited < timeout_ms, "condition not met in time"
        page.wait_for_timeout(100)
        waited += 100
